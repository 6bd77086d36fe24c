// The field checks shared by the validation of every node kind (definition.cpp and the
// per-kind files beside it): each throws DefinitionError naming the JSON path it was given.
#pragma once

#include "core/workflow/definition.hpp"

#include <cstdint>
#include <string>

namespace duroxide::core::workflow::fields {

// `s` cut to 64 bytes for a message.
std::string truncated(const std::string& s);
const Json& required(const Json& json, const std::string& field, const std::string& path);
std::string string_field(const Json& v, const std::string& path);
// A step name: 1 to 128 letters, digits and '_'.
std::string name_field(const Json& v, const std::string& path);
// An interval (parse_interval_ms) given as text or a number of milliseconds.
std::int64_t interval_field(const Json& v, const std::string& path);
std::int64_t positive_int(const Json& v, const std::string& path, std::int64_t max);
// Parses an expression and checks that what it reads can exist at this point.
Expression expression(const std::string& text, const std::string& path,
                      const ValidationContext& ctx);
// Checks every expression of a value template; returns the template.
Json value_template(const Json& v, const std::string& path, const ValidationContext& ctx);
RetrySpec retry(const Json& r, const std::string& path);

} // namespace duroxide::core::workflow::fields
