// Running another role's code inside a long-lived worker session: the envelope.
//
// A worker connects as the bootstrap superuser and runs, one after the other, code that many
// roles registered (SQL activities, the ctx.sql() statements of plugin activities, SQL workflow
// steps). pg::in_envelope runs one such piece of code so that it can neither act as the worker
// nor leave anything behind for the worker or for the next role:
//
//  * it runs as `role`, as a security-restricted operation (SetUserIdAndSecContext with
//    SECURITY_RESTRICTED_OPERATION, as PostgreSQL runs index expressions, VACUUM's and
//    REFRESH MATERIALIZED VIEW's user code): no temporary objects, no SET ROLE or SESSION
//    AUTHORIZATION, no LISTEN, no cursors WITH HOLD, no DISCARD;
//  * inside a new GUC nest level, rolled back afterwards whatever the code did (set_config(...,
//    false), SET, SET LOCAL): the session's settings are those from before, and `search_path`
//    inside is the one given here;
//  * inside a subtransaction: on failure its writes are rolled back and the caller's transaction
//    stays usable; on success they join the caller's transaction;
//  * with a statement timeout (a PostgreSQL timer: a worker has no client loop arming
//    statement_timeout), raising SQLSTATE 57014 when it expires;
//  * afterwards: the session-level advisory locks the code took are released, its prepared
//    statements (PREPARE) deallocated, its open cursors and large-object descriptors closed,
//    the sequence caches (currval / lastval) reset.
//
// The worker must call it where it holds none of these itself (no session advisory lock, no
// PREPAREd statement, no open cursor): they would be released with the code's. Envelopes do not
// nest (a nested one throws).
#pragma once

#include "pg/guard.hpp"

#include <chrono>
#include <string>
#include <type_traits>

namespace duroxide::pg {

struct EnvelopeSettings {
    Oid role = InvalidOid;                          // the code runs as this role
    std::chrono::milliseconds statement_timeout{0}; // 0: none
    std::string search_path;                        // what the code sees ("": the session's)
    std::string label;                              // names the code in the timeout error
};

// One envelope's state between entering and leaving it (use pg::in_envelope).
class Envelope {
public:
    explicit Envelope(const EnvelopeSettings& settings);
    Envelope(const Envelope&) = delete;
    Envelope& operator=(const Envelope&) = delete;
    ~Envelope();

    // Leaves the envelope after the code returned (its writes stay) or threw (rolled back).
    // Restoring the worker's state cannot be skipped: a failure to do so ends the process
    // (FATAL), as the worker's security state would be unknown.
    void leave(bool succeeded);

    // Rewrites a statement-timeout cancellation of the code into an error naming it.
    [[noreturn]] void rethrow_timeout(const SqlError& error) const;
    bool is_timeout(const SqlError& error) const;

private:
    EnvelopeSettings settings_;
    Oid saved_user_ = InvalidOid;
    int saved_context_ = 0;
    int guc_nest_level_ = 0;
    SubTransactionId parent_subtransaction_ = InvalidSubTransactionId;
    SubTransactionId subtransaction_ = InvalidSubTransactionId;
    MemoryContext memory_context_ = nullptr;
    ResourceOwner resource_owner_ = nullptr;
    bool open_ = false;
};

// Runs `fn` (which may use pg::call and SPI) in an envelope and returns its result; an error
// of `fn` is rethrown after the envelope was left (a timeout as SqlError 57014 naming
// settings.label and the limit).
template <typename Fn>
auto in_envelope(const EnvelopeSettings& settings, Fn&& fn) -> std::invoke_result_t<Fn&> {
    Envelope envelope(settings);
    try {
        if constexpr (std::is_void_v<std::invoke_result_t<Fn&>>) {
            fn();
            envelope.leave(true);
        } else {
            auto result = fn();
            envelope.leave(true);
            return result;
        }
    } catch (const SqlError& error) {
        envelope.leave(false);
        if (envelope.is_timeout(error)) {
            envelope.rethrow_timeout(error);
        }
        throw;
    } catch (...) {
        envelope.leave(false);
        throw;
    }
}

// The search_path the worker's own statements run with (pinned at its start): nothing a user
// can create is found before the catalog.
inline constexpr const char* kPinnedSearchPath = "pg_catalog, pg_temp";

// Sets the session's search_path to kPinnedSearchPath and returns the one it replaces (for the
// code run in envelopes). Call once, outside a transaction, when the worker has connected.
std::string pin_search_path();

// Whether the session's search_path is still kPinnedSearchPath.
bool search_path_pinned();

} // namespace duroxide::pg
