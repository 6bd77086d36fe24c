// A point in time taken from workflow data (sleep's `until`): a JSON number of Unix
// milliseconds, or ISO-8601 text as PostgreSQL writes a timestamptz in JSON
// ("2026-12-24T18:00:00+01:00", "2026-12-24 17:00:00.5Z"): a date, optionally a time (with
// seconds and a fraction optional) and a zone (Z or ±HH[:MM]; without one, UTC).
#pragma once

#include "core/workflow/json.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace duroxide::core::workflow {

// Unix milliseconds; nullopt for anything else (an invalid date included).
std::optional<std::int64_t> timestamp_ms(const Json& value);
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text);

} // namespace duroxide::core::workflow
