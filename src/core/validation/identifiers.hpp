// Rules for the names and payloads users hand to duroxide, shared by the SQL boundary and the
// plugin loader. Pure functions: each returns the reason a value is refused, or nullopt.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace duroxide::core {

inline constexpr std::size_t kMaxIdentifierBytes = 256; // instance ids, names
inline constexpr std::size_t kMaxPluginNameBytes = 63;  // a file name in $libdir

// Instance ids and orchestration / activity / event names: 1..kMaxIdentifierBytes bytes, no
// control characters (they end up in logs and in pg_stat_activity).
std::optional<std::string> identifier_problem(std::string_view value);

// Plugin names: 1..kMaxPluginNameBytes of [A-Za-z0-9_-], not starting with '-' (no paths, no
// dots: a plugin is a library name, never a path).
std::optional<std::string> plugin_name_problem(std::string_view value);

// Payloads (inputs, outputs, event data): at most `limit_bytes`.
std::optional<std::string> payload_problem(std::string_view value, std::size_t limit_bytes);

// The output of an activity or orchestration (`kind`) named `name` over `limit_bytes` (0: no
// limit), as the message it fails with: names the size and the limit.
std::optional<std::string> output_limit_problem(std::string_view kind, std::string_view name,
                                                std::string_view output, std::size_t limit_bytes);

} // namespace duroxide::core
