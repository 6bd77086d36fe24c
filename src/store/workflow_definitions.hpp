// The workflow definitions catalog (duroxide.workflow_definitions, sql/install/75_workflows.sql)
// as the activity workers read it: a sub_workflow loads its definition here, in the worker's
// transaction, with the permission of the role that started the parent instance.
#pragma once

#include "pg/postgres.hpp"
#include "pg/spi.hpp"

#include <optional>
#include <string>

namespace duroxide::store {

struct StoredWorkflow {
    std::string version;
    std::string definition; // JSON text
    // No version was asked for, and `role` lacks the owner's privileges: the pinned or newest
    // version would run code the owner may change later as `role`. Nothing was recorded.
    bool needs_version = false;
};

// The exact `version` of workflow `name`, or the one its version policy pins, or its newest
// version, if `role` may
// start it (duroxide._may_start_workflow); records `instance` as running that version (so the
// version cannot be dropped while it runs). nullopt when there is none or it is not allowed;
// needs_version set when no version was given and `role` is not the owner or its member.
std::optional<StoredWorkflow> load_workflow_for_instance(pg::SpiConnection& spi,
                                                         const std::string& name,
                                                         const std::optional<std::string>& version,
                                                         Oid role, const std::string& instance);

} // namespace duroxide::store
