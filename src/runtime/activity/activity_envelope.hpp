// The worker's side of the activity envelope (pg/envelope.hpp): its own statements run with a
// pinned search_path, and every piece of activity code (an SQL activity's function, a plugin
// activity's ctx.sql() statement, an SQL workflow step) runs in an envelope with the activity's
// role, its statement timeout and the search_path the database gives sessions.
#pragma once

#include "pg/envelope.hpp"

#include <optional>
#include <string>
#include <utility>

namespace duroxide::runtime {

// Pins the worker's search_path (pg::kPinnedSearchPath) and remembers the one it replaced (the
// database's default) for activity code. Called once by every worker process after connecting.
void pin_worker_session();

// The envelope of activity code running as `role`. `timeout_ms` is the activity's own statement
// timeout when it has one (0: none), else duroxide.activity_statement_timeout applies.
// `label` names the code in errors (e.g. `SQL activity "x"`).
pg::EnvelopeSettings activity_envelope(Oid role, std::optional<int> timeout_ms, std::string label);

// Defence in depth, after each piece of activity code: ends the process (FATAL) when the
// worker's search_path is no longer pinned, before any further statement of the worker runs.
void assert_worker_pinned();

// Runs `fn` in the envelope of activity code and checks the worker afterwards.
template <typename Fn>
auto run_activity_code(const pg::EnvelopeSettings& envelope, Fn&& fn) {
    struct Check {
        ~Check() { assert_worker_pinned(); }
    } check;
    return pg::in_envelope(envelope, std::forward<Fn>(fn));
}

} // namespace duroxide::runtime
