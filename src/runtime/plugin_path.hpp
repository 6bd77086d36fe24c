// Where plugin libraries may come from. Loading a plugin runs arbitrary code in the server, so
// a plugin is named, never given as a path: the name is checked for path tricks and the library
// is looked for only in $libdir and the directories an administrator listed in
// duroxide.plugin_directories.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace duroxide::runtime {

// Throws pg::SqlError (invalid_parameter_value) unless `name` passes
// core::plugin_name_problem.
void validate_plugin_name(std::string_view name);

// The absolute path of plugin `name`: the first `<dir>/<name>.so` that exists, searching
// `directories` in order ("$libdir" stands for PostgreSQL's package library directory).
// Throws pg::SqlError (undefined_file) when there is none.
std::string resolve_plugin_path(std::string_view name, const std::vector<std::string>& directories);

// Splits the duroxide.plugin_directories setting: "$libdir" first unless listed, then the
// absolute directories listed (relative ones are rejected with invalid_parameter_value).
std::vector<std::string> plugin_directories(std::string_view setting);

} // namespace duroxide::runtime
