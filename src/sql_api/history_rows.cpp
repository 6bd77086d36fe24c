// duroxide._event_json: the full JSON of a history row's event, for the SQL readers of
// duroxide.history (read_history, workflow_progress, the rewind, get_orchestration_stats).
// event_data holds the stored form (core/codec/json_codec.hpp), without what the row's columns
// hold; rows of 0.1.0 hold the full form, returned as they are.
#include "core/codec/json_codec.hpp"
#include "pg/guard.hpp"
#include "pg/sql_error.hpp"

extern "C" {
#include "utils/builtins.h"
}

#include <string>
#include <string_view>

// duroxide._event_json(instance_id text, execution_id bigint, event_id bigint, event_type text,
// event_data text) → text. STRICT: no argument is NULL here.
DUROXIDE_SQL_FUNCTION(duroxide_event_json) {
    namespace codec = duroxide::core::codec;
    auto text_arg = [fcinfo](int n) {
        text* value = duroxide::pg::call([fcinfo, n] { return PG_GETARG_TEXT_PP(n); });
        return std::string_view(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
    };
    const std::string_view data = text_arg(4);
    // The full form begins with its event id; the stored form never holds one.
    if (data.starts_with(R"({"event_id":)")) {
        PG_RETURN_DATUM(PG_GETARG_DATUM(4));
    }
    const std::string_view instance = text_arg(0);
    const codec::StoredEventKeys keys{
        .instance_id = instance,
        .execution_id = static_cast<uint64_t>(PG_GETARG_INT64(1)),
        .event_id = static_cast<uint64_t>(PG_GETARG_INT64(2)),
        .type = text_arg(3),
    };
    std::optional<std::string> full;
    try {
        full = codec::full_form_of_stored(data, keys);
    } catch (const codec::CodecError& e) {
        throw duroxide::pg::SqlError(ERRCODE_DATA_CORRUPTED,
                                     "event " + std::to_string(keys.event_id) + " of instance \"" +
                                         std::string(instance.substr(0, 200)) +
                                         "\" does not decode",
                                     e.what());
    }
    if (!full) {
        PG_RETURN_DATUM(PG_GETARG_DATUM(4)); // not the stored form: its reader judges it
    }
    const std::string& json = *full;
    return duroxide::pg::call([&json] {
        return PointerGetDatum(
            cstring_to_text_with_len(json.data(), static_cast<int>(json.size())));
    });
}
