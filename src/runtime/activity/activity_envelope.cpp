#include "runtime/activity/activity_envelope.hpp"

#include "runtime/process/gucs.hpp"

namespace duroxide::runtime {

namespace {

// The database's search_path for sessions (what activity code saw before the worker pinned its
// own), captured at the worker's start.
std::string& activity_search_path() {
    static std::string path;
    return path;
}

} // namespace

void pin_worker_session() {
    activity_search_path() = pg::pin_search_path();
}

pg::EnvelopeSettings activity_envelope(Oid role, std::optional<int> timeout_ms, std::string label) {
    const int timeout = timeout_ms ? *timeout_ms : settings.activity_statement_timeout_ms;
    return pg::EnvelopeSettings{
        .role = role,
        .statement_timeout = std::chrono::milliseconds(timeout > 0 ? timeout : 0),
        .search_path = activity_search_path(),
        .label = std::move(label),
    };
}

void assert_worker_pinned() {
    if (pg::search_path_pinned()) {
        return;
    }
    pg::call([] {
        ereport(
            FATAL,
            (errcode(ERRCODE_INTERNAL_ERROR),
             errmsg("duroxide: the worker's search_path is no longer pinned after activity code "
                    "ran"),
             errdetail("The worker exits before running any statement of its own; the launcher "
                       "starts a new one.")));
    });
}

} // namespace duroxide::runtime
