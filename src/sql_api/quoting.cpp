// duroxide._quote(value text) → text: core::quoted for the SQL-language functions, so that
// their messages show user values quoted, escaped and cut like the C++ ones.
#include "core/validation/message_quote.hpp"
#include "pg/guard.hpp"
#include "sql_api/arguments.hpp"

extern "C" {
#include "utils/builtins.h"
}

DUROXIDE_SQL_FUNCTION(duroxide_quote) {
    const std::optional<std::string> value = duroxide::sql_api::optional_text(fcinfo, 0);
    const std::string out = value ? duroxide::core::quoted(*value) : std::string("NULL");
    PG_RETURN_TEXT_P(duroxide::pg::call(
        [&out] { return cstring_to_text_with_len(out.data(), static_cast<int>(out.size())); }));
}
