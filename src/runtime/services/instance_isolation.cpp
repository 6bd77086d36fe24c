#include "runtime/services/instance_isolation.hpp"

#include "pg/guard.hpp"
#include "runtime/process/gucs.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/acl.h"
}

namespace duroxide::runtime {

bool role_may_access_instance(Oid role, std::optional<Oid> owner) {
    if (!settings.isolate_instances || (owner && *owner == role)) {
        return true;
    }
    return pg::call([role, owner] {
        if (superuser_arg(role)) {
            return true;
        }
        const Oid admin = get_role_oid("duroxide_admin", true);
        if (OidIsValid(admin) && has_privs_of_role(role, admin)) {
            return true;
        }
        return owner.has_value() && OidIsValid(*owner) && has_privs_of_role(role, *owner);
    });
}

} // namespace duroxide::runtime
