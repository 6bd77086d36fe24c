// The per-role isolation rule of instances (duroxide.isolate_instances), in one place for its
// two users: the SQL API (sql_api/access.hpp, for the calling role) and the system activities
// (system_activities.cpp, for the role that started the orchestration). It lives in the
// runtime because sql_api uses the runtime, never the other way round.
#pragma once

#include "pg/postgres.hpp"

#include <optional>

namespace duroxide::runtime {

// Whether `role` may reach an instance owned by `owner` (nullopt or InvalidOid: no owner
// recorded). With isolation off, always; with it on, when `role` is a superuser, a member of
// duroxide_admin, or has the privileges of `owner`.
bool role_may_access_instance(Oid role, std::optional<Oid> owner);

} // namespace duroxide::runtime
