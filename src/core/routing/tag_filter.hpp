// Which tagged activities an activity worker runs (reference §4.7): the worker's tag filter,
// parsed from the duroxide.worker_tag_filter / duroxide.worker_tag_filters settings.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace duroxide::core {

struct TagFilter {
    enum class Mode {
        DefaultOnly, // untagged activities only (the default)
        Tags,        // only activities with one of `tags`
        DefaultAnd,  // untagged ones and those with one of `tags`
        Any,         // every activity
        None,        // no activity at all
    };
    Mode mode = Mode::DefaultOnly;
    std::vector<std::string> tags; // for Tags and DefaultAnd: 1 to kMaxWorkerTags names

    bool admits(const std::optional<std::string>& tag) const;
    // The setting's spelling: "default", "any", "none", "tags:a,b" or "default,a,b".
    std::string to_string() const;
    bool operator==(const TagFilter&) const = default;
};

// Why `name` cannot be an activity tag, or nullopt when it can: a tag is 1 to
// kMaxTagNameBytes bytes without blanks, ',', ';' or '=' (the separators of the filter
// settings), so that every tag an orchestration schedules can be named in a worker's filter.
// Checked when an activity is scheduled and when a filter setting is parsed; the message
// starts with "tag".
std::optional<std::string> tag_name_problem(std::string_view name);

// A setting value that is not a tag filter; the message says what is wrong.
struct TagFilterError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// Parses "default" | "any" | "none" | "tags:<t>[,<t>...]" | "default,<t>[,<t>...]" (case
// matters for tags, not for the keywords; blanks around names are ignored). Each tag passes
// tag_name_problem; at most kMaxWorkerTags tags.
TagFilter parse_tag_filter(std::string_view text);

// Parses the per-worker overrides "<index>=<filter>[;<index>=<filter>...]" (blank: none);
// indexes are activity worker indexes 0..max_index, each given once.
std::map<int, TagFilter> parse_worker_tag_filters(std::string_view text, int max_index);

} // namespace duroxide::core
