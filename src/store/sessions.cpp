// Explicit activity sessions in the store: the open set of each instance (open_sessions) and
// the lock stealing of closed sessions, both done in the ack of the turn that decided them.
#include "pg/guard.hpp"
#include "store/store.hpp"

#include <map>

namespace duroxide::store {

namespace {

using pg::SqlText;

} // namespace

void Store::record_session_changes(const std::string& instance, uint64_t execution_id,
                                   const core::TurnResult& turn) {
    if (turn.status == core::ExecutionStatus::Completed ||
        turn.status == core::ExecutionStatus::Failed) {
        // The instance is over (completed, failed or cancelled): every session of it closes.
        // Its open activities were cancelled by the turn (cancelled_activities).
        auto released = spi_.execute(
            "WITH closed AS (DELETE FROM duroxide.open_sessions WHERE instance_id = $1), "
            "  unpinned AS (DELETE FROM duroxide.session_locks WHERE instance_id = $1 "
            "    RETURNING 1) "
            "SELECT duroxide._sessions_released((SELECT pg_catalog.count(*) FROM unpinned))",
            std::vector<SqlText>{instance});
        (void)released;
        return;
    }
    // The state each session is left in by this turn (the last of its events), and for a
    // closed one the id of its last close: work scheduled after it (a reopen) stays.
    std::map<std::string, bool> open;
    std::map<std::string, uint64_t> closed_at;
    for (const core::Event& event : turn.history_delta) {
        if (auto* opened = std::get_if<core::events::SessionOpened>(&event.kind)) {
            open[opened->session_id] = true;
        } else if (auto* closed = std::get_if<core::events::SessionClosed>(&event.kind)) {
            open[closed->session_id] = false;
            closed_at[closed->session_id] = event.event_id;
        }
    }
    if (open.empty()) {
        return;
    }
    std::vector<std::string> to_open, to_close, close_ids;
    for (const auto& [session, is_open] : open) {
        if (is_open) {
            to_open.push_back(session);
        }
    }
    for (const auto& [session, event_id] : closed_at) {
        to_close.push_back(session);
        close_ids.push_back(std::to_string(event_id));
    }
    if (!to_close.empty()) {
        // Lock stealing: the closed sessions' activities go, queued or running (a running
        // one finds its lease gone at its next renewal and is cancelled; its completion is
        // discarded), and so do their leases (the owner drops the session's state).
        spi_.execute(
            "WITH c AS (SELECT * FROM unnest($2::text[], $3::bigint[]) AS c(session_id, "
            "    closed_at)), "
            "  withdrawn AS (DELETE FROM duroxide.worker_queue w USING c "
            "    WHERE w.instance_id = $1 AND w.session_id = c.session_id "
            "      AND (w.execution_id < $4::bigint OR w.activity_id < c.closed_at)), "
            "  forgotten AS (DELETE FROM duroxide.open_sessions o USING c "
            "    WHERE o.instance_id = $1 AND o.session_id = c.session_id), "
            "  unpinned AS (DELETE FROM duroxide.session_locks l USING c "
            "    WHERE l.instance_id = $1 AND l.session_id = c.session_id RETURNING 1) "
            "SELECT duroxide._sessions_released((SELECT pg_catalog.count(*) FROM unpinned))",
            std::vector<SqlText>{instance, text_array(to_close), text_array(close_ids),
                                 std::to_string(execution_id)});
    }
    if (!to_open.empty()) {
        spi_.execute("INSERT INTO duroxide.open_sessions (instance_id, session_id) "
                     "SELECT $1, s FROM pg_catalog.unnest($2::text[]) AS s ON CONFLICT DO NOTHING",
                     std::vector<SqlText>{instance, text_array(to_open)});
    }
}

uint64_t Store::release_owner_sessions(const SessionOwner& sessions) {
    return spi_
        .execute("DELETE FROM duroxide.session_locks WHERE owner_id = $1 "
                 "  AND locked_by = $2::bigint",
                 std::vector<SqlText>{sessions.owner_id, std::to_string(sessions.lease_owner)})
        .processed;
}

} // namespace duroxide::store
