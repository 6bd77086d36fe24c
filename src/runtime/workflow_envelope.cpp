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
    pg::call([&] {
        SetUserIdAndSecContext(role, saved_context | SECURITY_LOCAL_USERID_CHANGE |
                                         SECURITY_RESTRICTED_OPERATION);
    });
    auto restore = [&] {
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
