// Reading and validating SQL arguments at the boundary. Bad input is refused here with a clear
// message and SQLSTATE, before anything is written (docs/sql-reference.md "Limits").
#pragma once

#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace duroxide::sql_api {

inline constexpr size_t kMaxIdBytes = 256; // instance ids, orchestration/activity/event names
inline constexpr size_t kMaxReasonBytes = 4096;

// The text value of argument `n`; nullopt when it is SQL NULL.
std::optional<std::string> optional_text(FunctionCallInfo fcinfo, int n);

// Argument `n` as text, refusing NULL (null_value_not_allowed) with the argument's name.
std::string required_text(FunctionCallInfo fcinfo, int n, std::string_view what);

// An identifier (instance id, name) by core::identifier_problem's rules. Throws
// invalid_parameter_value naming `what`.
void check_identifier(std::string_view value, std::string_view what);

// A payload (input, event data): at most duroxide.max_payload_size bytes
// (program_limit_exceeded otherwise).
void check_payload(std::string_view value, std::string_view what);

// A timeout in milliseconds from an interval argument: positive and at most one day.
int64 timeout_ms(FunctionCallInfo fcinfo, int n, std::string_view what);

} // namespace duroxide::sql_api
