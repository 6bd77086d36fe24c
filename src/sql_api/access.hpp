// Per-role isolation of instances. Every instance records the role that started it (its
// children inherit it). With duroxide.isolate_instances on, a caller sees, waits on, signals
// and cancels only instances owned by a role it has the privileges of; superusers and members
// of duroxide_admin see all. The caller is the session's current role (after SET ROLE), not
// the owner of the SECURITY DEFINER function it called.
#pragma once

#include "pg/postgres.hpp"

#include <optional>
#include <string>

namespace duroxide::sql_api {

// The role a client call acts for.
Oid calling_role();

// Whether the calling role may reach an instance owned by `owner` (NULL: no owner recorded,
// reachable by administrators only).
bool may_access(std::optional<Oid> owner);

} // namespace duroxide::sql_api
