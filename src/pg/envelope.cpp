#include "pg/envelope.hpp"

#include <cstring>

extern "C" {
#include "commands/prepare.h"
#include "commands/sequence.h"
#include "libpq/be-fsstubs.h"
#include "storage/lock.h"
#include "utils/guc.h"
#include "utils/portal.h"
#include "utils/timeout.h"
}

namespace duroxide::pg {

namespace {

bool inside_envelope = false;

// Ends the process: the worker's security state (role, settings) could not be restored.
[[noreturn]] void fatal(const char* what) {
    call([what] {
        ereport(FATAL, (errcode(ERRCODE_INTERNAL_ERROR),
                        errmsg("duroxide: could not restore the worker after running code of "
                               "another role: %s",
                               what)));
    });
    std::abort(); // not reached: FATAL exits
}

} // namespace

Envelope::Envelope(const EnvelopeSettings& settings) : settings_(settings) {
    if (inside_envelope) {
        throw SqlError(ERRCODE_INTERNAL_ERROR, "duroxide: envelopes do not nest");
    }
    if (settings_.role == InvalidOid) {
        throw SqlError(ERRCODE_INTERNAL_ERROR, "duroxide: an envelope needs a role to run as");
    }
    memory_context_ = CurrentMemoryContext;
    resource_owner_ = CurrentResourceOwner;
    GetUserIdAndSecContext(&saved_user_, &saved_context_);
    const Oid role = settings_.role;
    const int context =
        saved_context_ | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION;
    const char* search_path =
        settings_.search_path.empty() ? nullptr : settings_.search_path.c_str();
    const int timeout_ms = static_cast<int>(settings_.statement_timeout.count());
    int nest_level = 0;
    SubTransactionId parent = InvalidSubTransactionId;
    SubTransactionId mine = InvalidSubTransactionId;
    // The nest level first, then the session's role inside it (as SET ROLE would: functions
    // that ask who called them, GetOuterUserId() such as duroxide._calling_role() inside the
    // extension's SECURITY DEFINER functions, must see the code's role, not the worker's
    // superuser; a security-restricted operation refuses SET ROLE, so it comes before), then
    // the restricted user id, then the subtransaction: its abort restores the role and settings
    // it started with, and the nest level outlives it to undo what a successful run left.
    try {
        call([&] {
            nest_level = NewGUCNestLevel();
            (void)set_config_option("role", GetUserNameFromId(role, false), PGC_SUSET,
                                    PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
            SetUserIdAndSecContext(role, context);
            if (search_path != nullptr) {
                (void)set_config_option("search_path", search_path, PGC_USERSET, PGC_S_SESSION,
                                        GUC_ACTION_SAVE, true, 0, false);
            }
            parent = GetCurrentSubTransactionId();
            BeginInternalSubTransaction(nullptr);
            mine = GetCurrentSubTransactionId();
            if (timeout_ms > 0) {
                enable_timeout_after(STATEMENT_TIMEOUT, timeout_ms);
            }
        });
    } catch (const SqlError&) {
        // Entering failed half-way: undo what was done before running anything.
        const Oid saved_user = saved_user_;
        const int saved_context = saved_context_;
        const bool in_subtransaction = mine != InvalidSubTransactionId;
        try {
            call([=] {
                if (in_subtransaction) {
                    RollbackAndReleaseCurrentSubTransaction();
                }
                SetUserIdAndSecContext(saved_user, saved_context);
                if (nest_level > 0) {
                    AtEOXact_GUC(false, nest_level); // the session's role too
                }
                SetUserIdAndSecContext(saved_user, saved_context);
            });
        } catch (const SqlError& again) {
            fatal(again.what());
        }
        MemoryContextSwitchTo(memory_context_);
        CurrentResourceOwner = resource_owner_;
        throw;
    }
    MemoryContextSwitchTo(memory_context_);
    guc_nest_level_ = nest_level;
    parent_subtransaction_ = parent;
    subtransaction_ = mine;
    inside_envelope = true;
    open_ = true;
}

Envelope::~Envelope() {
    if (open_) {
        fatal("an envelope was not left");
    }
}

void Envelope::leave(bool succeeded) {
    if (!open_) {
        return;
    }
    open_ = false;
    inside_envelope = false;
    const bool timed = settings_.statement_timeout.count() > 0;
    const SubTransactionId mine = subtransaction_;
    const SubTransactionId parent = parent_subtransaction_;
    const int nest_level = guc_nest_level_;
    const Oid saved_user = saved_user_;
    const int saved_context = saved_context_;
    try {
        call([=] {
            if (timed) {
                // A timer that fired after the code's last interrupt check must not cancel
                // the worker's next statement: the code finished.
                const bool fired = get_timeout_indicator(STATEMENT_TIMEOUT, false);
                disable_timeout(STATEMENT_TIMEOUT, false);
                if (fired && succeeded) {
                    QueryCancelPending = false;
                }
            }
            if (succeeded) {
                // What the code opened and a committed subtransaction would hand on to the
                // caller's transaction (and so to the next code run in it): its cursors and
                // large-object descriptors, opened with its privileges.
                PortalHashTableDeleteAll();
                AtEOSubXact_LargeObject(false, mine, parent);
                ReleaseCurrentSubTransaction();
            } else {
                RollbackAndReleaseCurrentSubTransaction();
            }
        });
    } catch (const SqlError& e) {
        fatal(e.what());
    }
    MemoryContextSwitchTo(memory_context_);
    CurrentResourceOwner = resource_owner_;
    try {
        call([=] {
            // Out of the restricted operation before the nest level gives the session its role
            // back (changing the outer user id assumes no restriction), then again after it.
            SetUserIdAndSecContext(saved_user, saved_context);
            AtEOXact_GUC(false, nest_level);
            SetUserIdAndSecContext(saved_user, saved_context);
            // Session state that no subtransaction rolls back.
            LockReleaseSession(USER_LOCKMETHOD);
            DropAllPreparedStatements();
            ResetSequenceCaches();
        });
    } catch (const SqlError& e) {
        fatal(e.what());
    }
}

bool Envelope::is_timeout(const SqlError& error) const {
    return settings_.statement_timeout.count() > 0 && error.sqlstate() == ERRCODE_QUERY_CANCELED &&
           std::strstr(error.what(), "statement timeout") != nullptr;
}

void Envelope::rethrow_timeout(const SqlError& error) const {
    const std::string limit = std::to_string(settings_.statement_timeout.count()) + " ms";
    throw SqlError(ERRCODE_QUERY_CANCELED,
                   (settings_.label.empty() ? std::string("code") : settings_.label) +
                       " ran longer than its statement timeout (" + limit + ")",
                   error.what(),
                   "Make it faster, or raise its timeout (duroxide.activity_statement_timeout "
                   "or the activity's own).");
}

std::string pin_search_path() {
    const char* current = call([] { return GetConfigOption("search_path", false, false); });
    std::string previous = current != nullptr ? current : "";
    call([] { SetConfigOption("search_path", kPinnedSearchPath, PGC_USERSET, PGC_S_SESSION); });
    return previous;
}

bool search_path_pinned() {
    const char* current = call([] { return GetConfigOption("search_path", false, false); });
    return current != nullptr && std::strcmp(current, kPinnedSearchPath) == 0;
}

} // namespace duroxide::pg
