// TEMPORARY implementation of run_as_role_in_envelope (see workflow_envelope.hpp): replaced by
// the shared activity envelope at merge.
#include "runtime/workflow_envelope.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/guc.h"
}

namespace duroxide::runtime {

void run_as_role_in_envelope(Oid role, int /*timeout_ms*/, const std::function<void()>& callable) {
    Oid saved_user;
    int saved_context;
    pg::call([&] { GetUserIdAndSecContext(&saved_user, &saved_context); });
    const int guc_level = pg::call([] { return NewGUCNestLevel(); });
    // The session's current role too (as SET ROLE would, undone with the nest level): without
    // it, functions that ask who called them (GetOuterUserId, e.g. duroxide._calling_role()
    // inside duroxide.grant_workflow or start_orchestration) would see the worker's superuser.
    // Set before the security-restricted operation begins, which refuses SET ROLE.
    pg::call([role] {
        const char* name = GetUserNameFromId(role, false);
        (void)set_config_option("role", name, PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                                false);
    });
    pg::call([&] {
        SetUserIdAndSecContext(role, saved_context | SECURITY_LOCAL_USERID_CHANGE |
                                         SECURITY_RESTRICTED_OPERATION);
    });
    auto restore = [&] {
        // The security context first: resetting the role requires no restricted operation.
        pg::call([&] { SetUserIdAndSecContext(saved_user, saved_context); });
        pg::call([guc_level] { AtEOXact_GUC(false, guc_level); });
        pg::call([&] { SetUserIdAndSecContext(saved_user, saved_context); });
    };
    try {
        callable();
    } catch (...) {
        restore();
        throw;
    }
    restore();
}

} // namespace duroxide::runtime
