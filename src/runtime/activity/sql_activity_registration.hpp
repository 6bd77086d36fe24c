// What the worker re-checks of a registration before running it (docs/operations.md, Threat
// model): a superuser run_as only when a superuser registered it; for an SQL activity, that its
// function still has the owner and the definition it had when it was registered.
#pragma once

#include "runtime/plugins/handlers.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace duroxide::runtime {

// A hex SHA-256 digest of what decides what function `fn` does and as whom: owner, language,
// SECURITY DEFINER, volatility, strictness, leakproofness, SET clauses, source, object file and
// SQL body. Throws std::runtime_error when the function no longer exists.
// duroxide._function_fingerprint() is the same digest for the registration functions.
std::string function_fingerprint(Oid fn);

// Why running as `run_as` is refused, or nullopt: a superuser role is refused unless the
// registration row says a superuser registered it (`registered_by_superuser`), so a
// registration that names a superuser some other way (or a registrant made superuser later)
// never runs with a superuser's rights. `what` names the activity or plugin in the message.
std::optional<std::string> superuser_run_as_refusal(Oid run_as, bool registered_by_superuser,
                                                    std::string_view what);

// Throws std::runtime_error (a broken registration: the attempt is given back, the activity
// ends as poison after duroxide.max_attempts unless it is registered again) when the function
// of SQL activity `name` changed owner or definition since its registration, or when its
// run_as is a superuser that no superuser registered.
void verify_sql_activity_registration(const SqlActivity& activity, std::string_view name);

} // namespace duroxide::runtime
