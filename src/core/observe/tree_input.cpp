#include "core/observe/tree_input.hpp"

#include "core/codec/json_codec.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <stdexcept>
#include <string>

namespace duroxide::core::observe {

namespace {

std::optional<std::string> optional_string(const rapidjson::Value& entry, const char* field) {
    const auto it = entry.FindMember(field);
    if (it == entry.MemberEnd() || it->value.IsNull()) {
        return std::nullopt;
    }
    if (!it->value.IsString()) {
        throw std::invalid_argument(std::string("instance tree: \"") + field +
                                    "\" is not a string");
    }
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

} // namespace

std::vector<InstanceHistory> decode_instance_tree(std::string_view json) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
    if (doc.HasParseError()) {
        throw std::invalid_argument(std::string("instance tree: ") +
                                    rapidjson::GetParseError_En(doc.GetParseError()));
    }
    if (!doc.IsArray()) {
        throw std::invalid_argument("instance tree: not a JSON array");
    }
    std::vector<InstanceHistory> tree;
    for (const auto& entry : doc.GetArray()) {
        if (!entry.IsObject()) {
            throw std::invalid_argument("instance tree: an entry is not an object");
        }
        auto instance = optional_string(entry, "instance");
        if (!instance) {
            throw std::invalid_argument("instance tree: an entry has no \"instance\"");
        }
        const auto history = optional_string(entry, "history");
        tree.push_back(
            {.instance = std::move(*instance),
             .parent = optional_string(entry, "parent"),
             .status = optional_string(entry, "status").value_or(""),
             .history = history ? codec::decode_history(*history) : std::vector<Event>{}});
    }
    return tree;
}

} // namespace duroxide::core::observe
