// How a user-supplied value appears in an error or log message: double-quoted, control
// characters escaped, and cut to a bounded length, so that a message never carries megabytes
// or a forged log line. Shared by the SQL boundary (sql_api), the runtime and, through
// duroxide._quote(text), the SQL-language functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace duroxide::core {

inline constexpr std::size_t kQuotedValueBytes = 64;

// `value` as "…": '"' and '\' are backslash-escaped, newline, carriage return and tab become
// \n, \r, \t and other control bytes \xNN. A value longer than `max_bytes` is cut at a UTF-8
// character boundary and followed by `... (N bytes)`.
std::string quoted(std::string_view value, std::size_t max_bytes = kQuotedValueBytes);

} // namespace duroxide::core
