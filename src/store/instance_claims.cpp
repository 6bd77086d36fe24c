#include "store/instance_claims.hpp"

#include "core/codec/json_codec.hpp"
#include "core/model/work_item.hpp"
#include "store/sql_values.hpp"
#include "store/statements.hpp"

#include <vector>

namespace duroxide::store {

namespace {

using pg::SqlText;

// The first key of the claim lock: "dx" + 1, distinct from any lock the runtime takes.
constexpr const char* kClaimLockClass = "1685586689";

} // namespace

void lock_instance_id(pg::SpiConnection& spi, const std::string& instance) {
    Statements(spi).execute("SELECT pg_catalog.pg_advisory_xact_lock(" +
                                std::string(kClaimLockClass) + ", pg_catalog.hashtext($1))",
                            std::vector<SqlText>{instance});
}

std::optional<InstanceClaim> instance_claim(pg::SpiConnection& spi, const std::string& instance) {
    // One statement, one snapshot: the dispatcher deletes the queued start in the transaction
    // that inserts the instance row, so one of the two is always seen.
    auto rows = Statements(spi).execute(
        "SELECT true, i.orchestration_name, i.owner_role::text, NULL::text "
        "  FROM duroxide.instances i WHERE i.instance_id = $1 "
        "UNION ALL "
        "SELECT * FROM (SELECT false, NULL::text, q.started_by::text, q.work_item "
        "  FROM duroxide.orchestrator_queue q "
        " WHERE q.instance_id = $1 AND q.started_by IS NOT NULL ORDER BY q.id) s",
        std::vector<SqlText>{instance});
    for (const auto& row : rows.rows) {
        if (*row[0] == "t") {
            return InstanceClaim{
                .orchestration = row[1].value_or(""), .owner = oid_of(row[2]), .started = true};
        }
    }
    for (const auto& row : rows.rows) {
        if (*row[0] == "t") {
            continue;
        }
        const core::WorkItem item = core::codec::decode_work_item(row[3].value_or("{}"));
        if (const auto* start = std::get_if<core::work::StartOrchestration>(&item.kind)) {
            return InstanceClaim{
                .orchestration = start->orchestration, .owner = oid_of(row[2]), .started = false};
        }
    }
    return std::nullopt;
}

bool orchestration_provided(pg::SpiConnection& spi, const std::string& name,
                            const std::optional<std::string>& version) {
    // A database still at the 0.1.0 schema (before ALTER EXTENSION UPDATE) has no hook: starts
    // are accepted there as 0.1.0 accepted them.
    auto hook =
        Statements(spi).execute("SELECT pg_catalog.to_regprocedure("
                                "'duroxide._is_orchestration_provided(text, text)') IS NOT NULL",
                                {}, true);
    if (hook.rows.empty() || hook.rows[0][0] != "t") {
        return true;
    }
    auto rows = Statements(spi).execute("SELECT duroxide._is_orchestration_provided($1, $2)",
                                        std::vector<SqlText>{name, version});
    return !rows.rows.empty() && rows.rows[0][0] == "t";
}

std::string registered_orchestrations(pg::SpiConnection& spi) {
    auto rows =
        Statements(spi).execute("SELECT duroxide._registered_orchestrations_summary()", {}, true);
    return rows.rows.empty() ? "none" : rows.rows[0][0].value_or("none");
}

} // namespace duroxide::store
