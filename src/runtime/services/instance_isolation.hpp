// The per-role isolation rule of instances (duroxide.isolate_instances), in one place for its
// two users: the SQL API (sql_api/access.hpp, for the calling role) and the system activities
// (system_activities.cpp, for the role that started the orchestration). It lives in the
// runtime because sql_api uses the runtime, never the other way round.
#pragma once

#include "pg/postgres.hpp"

#include <optional>
#include <string>

namespace duroxide::runtime {

// Whether `role` may reach an instance owned by `owner` (nullopt or InvalidOid: no owner
// recorded). With isolation off, always; with it on, when `role` is a superuser, a member of
// duroxide_admin, or has the privileges of `owner`.
bool role_may_access_instance(Oid role, std::optional<Oid> owner);

// An instance owner as the store reads it (the oid's text form, "12345") as an oid; nullopt
// for none. One conversion for the runtime and the SQL API.
std::optional<Oid> owner_oid(const std::optional<std::string>& owner);

} // namespace duroxide::runtime
