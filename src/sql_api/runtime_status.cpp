// duroxide.runtime_status(): one row per duroxide process of the server, read from shared
// memory (the launcher and every dispatcher / activity worker slot in use). With
// duroxide.isolate_instances on, a role that is not an administrator sees a process's current
// work only when it may access the instance it belongs to, and no process's last error (which
// may name any instance).
#include "pg/guard.hpp"
#include "runtime/services/instance_isolation.hpp"
#include "runtime/process/shared_state.hpp"
#include "sql_api/access.hpp"

#include <memory>
#include <span>
#include <string>
#include <vector>

extern "C" {
#include "utils/timestamp.h"
}

namespace {

using duroxide::runtime::ProcessStatus;
using duroxide::runtime::WorkerRole;

struct StatusRow {
    std::string role;
    int slot = 0;
    int pid = 0;
    Oid database = InvalidOid;
    std::string state;
    TimestampTz since = 0;
    std::string current{};
    Oid current_owner = InvalidOid;
    int64 items_processed = 0;
    std::string last_error{};
    int sessions = 0;
    std::string tag_filter{};
};

StatusRow row_of(const ProcessStatus& process) {
    if (process.launcher) {
        return {.role = "launcher", .pid = process.pid, .state = "running"};
    }
    return {.role = process.role == WorkerRole::Dispatcher ? "dispatcher" : "activity worker",
            .slot = process.index,
            .pid = process.pid,
            .database = process.database,
            .state = process.pid == 0 ? std::string("starting") : std::string(process.state),
            .since = process.state_since,
            .current = process.current,
            .current_owner = process.current_owner,
            .items_processed = static_cast<int64>(process.items_processed),
            .last_error = process.last_error,
            .sessions = process.sessions,
            .tag_filter = process.tag_filter};
}

// Copies shared memory into a buffer allocated before the lock is taken (nothing is allocated
// while it is held), then builds the rows from the copy.
std::vector<StatusRow> snapshot() {
    auto& shared = duroxide::runtime::shared_state();
    const auto copies =
        std::make_unique_for_overwrite<ProcessStatus[]>(duroxide::runtime::kMaxProcesses);
    const std::size_t count =
        shared.snapshot(std::span(copies.get(), duroxide::runtime::kMaxProcesses));
    std::vector<StatusRow> rows;
    rows.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        rows.push_back(row_of(copies[i]));
    }
    return rows;
}

Datum nullable_text(const std::string& s, bool& is_null) {
    is_null = s.empty();
    return is_null ? Datum(0) : duroxide::pg::call([&s] { return CStringGetTextDatum(s.c_str()); });
}

} // namespace

DUROXIDE_SQL_FUNCTION(duroxide_runtime_status) {
    std::vector<StatusRow> rows = snapshot();
    using duroxide::runtime::role_may_access_instance;
    const Oid caller = duroxide::sql_api::calling_role();
    const bool sees_everything = role_may_access_instance(caller, std::nullopt);
    for (auto& row : rows) {
        if (sees_everything) {
            continue;
        }
        row.last_error.clear();
        if (!row.current.empty() &&
            !role_may_access_instance(caller, OidIsValid(row.current_owner)
                                                  ? std::optional<Oid>(row.current_owner)
                                                  : std::nullopt)) {
            row.current.clear();
        }
    }
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    duroxide::pg::call([fcinfo] { InitMaterializedSRF(fcinfo, 0); });
    for (const auto& row : rows) {
        Datum values[11];
        bool nulls[11] = {};
        values[0] = nullable_text(row.role, nulls[0]);
        values[1] = Int32GetDatum(row.slot);
        values[2] = Int32GetDatum(row.pid);
        nulls[2] = row.pid == 0;
        values[3] = ObjectIdGetDatum(row.database);
        nulls[3] = !OidIsValid(row.database);
        values[4] = nullable_text(row.state, nulls[4]);
        values[5] = TimestampTzGetDatum(row.since);
        nulls[5] = row.since == 0;
        values[6] = nullable_text(row.current, nulls[6]);
        values[7] = Int64GetDatum(row.items_processed);
        values[8] = nullable_text(row.last_error, nulls[8]);
        values[9] = Int32GetDatum(row.sessions);
        values[10] = nullable_text(row.tag_filter, nulls[10]);
        duroxide::pg::call([rsinfo, &values, &nulls] {
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        });
    }
    return Datum(0);
}
