#include "sql_api/arguments.hpp"

#include "core/validation/identifiers.hpp"

#include "pg/guard.hpp"
#include "runtime/process/gucs.hpp"

extern "C" {
#include "utils/timestamp.h"
}

namespace duroxide::sql_api {

std::optional<std::string> optional_text(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) {
        return std::nullopt;
    }
    // Detoasting can fail (corrupt datum, out of memory): guarded.
    text* value = pg::call([fcinfo, n] { return PG_GETARG_TEXT_PP(n); });
    return std::string(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
}

std::string required_text(FunctionCallInfo fcinfo, int n, std::string_view what) {
    auto value = optional_text(fcinfo, n);
    if (!value) {
        throw pg::SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string(what) + " must not be null");
    }
    return std::move(*value);
}

void check_identifier(std::string_view value, std::string_view what) {
    if (auto problem = core::identifier_problem(value)) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, std::string(what) + " " + *problem);
    }
}

void check_payload(std::string_view value, std::string_view what) {
    const size_t limit = static_cast<size_t>(runtime::settings.max_payload_kb) * 1024;
    if (auto problem = core::payload_problem(value, limit)) {
        throw pg::SqlError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, std::string(what) + " " + *problem, {},
                           "Raise duroxide.max_payload_size to accept larger values.");
    }
}

int64 timeout_ms(FunctionCallInfo fcinfo, int n, std::string_view what) {
    if (PG_ARGISNULL(n)) {
        throw pg::SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string(what) + " must not be null");
    }
    const Interval* interval = PG_GETARG_INTERVAL_P(n);
    // Months are not a fixed length; a timeout in months or years is absurd anyway.
    const bool has_months = interval->month != 0;
    const int64 ms = interval->time / 1000 + static_cast<int64>(interval->day) * 86400000LL;
    if (has_months || ms <= 0 || ms > 86400000LL) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           std::string(what) + " must be positive and at most 1 day", {},
                           "Use for example interval '5 seconds'.");
    }
    return ms;
}

} // namespace duroxide::sql_api
