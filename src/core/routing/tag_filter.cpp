#include "core/routing/tag_filter.hpp"

#include "core/model/limits.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace duroxide::core {

namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.remove_suffix(1);
    }
    return text;
}

bool equals_keyword(std::string_view text, std::string_view keyword) {
    return text.size() == keyword.size() &&
           std::equal(text.begin(), text.end(), keyword.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
           });
}

std::vector<std::string> parse_tags(std::string_view list) {
    std::vector<std::string> tags;
    for (;;) {
        const std::size_t comma = list.find(',');
        const std::string_view name = trim(list.substr(0, comma));
        if (const auto problem = tag_name_problem(name)) {
            throw TagFilterError(*problem);
        }
        if (std::find(tags.begin(), tags.end(), name) == tags.end()) {
            tags.emplace_back(name);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        list.remove_prefix(comma + 1);
    }
    if (tags.size() > kMaxWorkerTags) {
        throw TagFilterError(std::to_string(tags.size()) + " tags given, at most " +
                             std::to_string(kMaxWorkerTags) + " are allowed");
    }
    return tags;
}

} // namespace

std::optional<std::string> tag_name_problem(std::string_view name) {
    if (name.empty()) {
        return "tag is empty";
    }
    if (name.size() > kMaxTagNameBytes) {
        return "tag of " + std::to_string(name.size()) + " bytes exceeds the limit of " +
               std::to_string(kMaxTagNameBytes) + " bytes";
    }
    const bool has_separator = std::any_of(name.begin(), name.end(), [](char c) {
        return c == ',' || c == ';' || c == '=' || std::isspace(static_cast<unsigned char>(c));
    });
    if (has_separator) {
        return "tag \"" + std::string(name) + "\" contains a blank, ',', ';' or '='";
    }
    return std::nullopt;
}

bool TagFilter::admits(const std::optional<std::string>& tag) const {
    switch (mode) {
    case Mode::DefaultOnly:
        return !tag;
    case Mode::Any:
        return true;
    case Mode::None:
        return false;
    case Mode::Tags:
    case Mode::DefaultAnd:
        if (!tag) {
            return mode == Mode::DefaultAnd;
        }
        return std::find(tags.begin(), tags.end(), *tag) != tags.end();
    }
    return false;
}

std::string TagFilter::to_string() const {
    std::string out;
    switch (mode) {
    case Mode::DefaultOnly:
        return "default";
    case Mode::Any:
        return "any";
    case Mode::None:
        return "none";
    case Mode::Tags:
        out = "tags:";
        break;
    case Mode::DefaultAnd:
        out = "default,";
        break;
    }
    for (std::size_t i = 0; i < tags.size(); ++i) {
        out += (i == 0 ? "" : ",") + tags[i];
    }
    return out;
}

TagFilter parse_tag_filter(std::string_view text) {
    text = trim(text);
    if (equals_keyword(text, "default")) {
        return {};
    }
    if (equals_keyword(text, "any")) {
        return {TagFilter::Mode::Any, {}};
    }
    if (equals_keyword(text, "none")) {
        return {TagFilter::Mode::None, {}};
    }
    const std::size_t colon = text.find(':');
    if (colon != std::string_view::npos && equals_keyword(trim(text.substr(0, colon)), "tags")) {
        return {TagFilter::Mode::Tags, parse_tags(text.substr(colon + 1))};
    }
    const std::size_t comma = text.find(',');
    if (comma != std::string_view::npos && equals_keyword(trim(text.substr(0, comma)), "default")) {
        return {TagFilter::Mode::DefaultAnd, parse_tags(text.substr(comma + 1))};
    }
    throw TagFilterError("\"" + std::string(text) +
                         "\" is not a tag filter: use default, any, none, tags:<tag>[,<tag>...] "
                         "or default,<tag>[,<tag>...]");
}

std::map<int, TagFilter> parse_worker_tag_filters(std::string_view text, int max_index) {
    std::map<int, TagFilter> filters;
    while (!trim(text).empty()) {
        const std::size_t semicolon = text.find(';');
        const std::string_view entry = trim(text.substr(0, semicolon));
        text =
            semicolon == std::string_view::npos ? std::string_view() : text.substr(semicolon + 1);
        if (entry.empty()) {
            continue;
        }
        const std::size_t equals = entry.find('=');
        if (equals == std::string_view::npos) {
            throw TagFilterError("\"" + std::string(entry) +
                                 "\" is not <worker index>=<tag filter>");
        }
        const std::string_view number = trim(entry.substr(0, equals));
        int index = -1;
        const auto [end, error] =
            std::from_chars(number.data(), number.data() + number.size(), index);
        if (error != std::errc() || end != number.data() + number.size() || index < 0 ||
            index > max_index) {
            throw TagFilterError("\"" + std::string(number) +
                                 "\" is not an activity worker index (0 to " +
                                 std::to_string(max_index) + ")");
        }
        if (filters.count(index)) {
            throw TagFilterError("activity worker " + std::to_string(index) + " is given twice");
        }
        filters.emplace(index, parse_tag_filter(entry.substr(equals + 1)));
    }
    return filters;
}

} // namespace duroxide::core
