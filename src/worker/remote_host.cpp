#include "worker/remote_host.hpp"

namespace duroxide::worker {

RemoteHost::RemoteHost(LibpqActivityProvider& provider, const core::provider::ActivityItem& item,
                       std::chrono::milliseconds lock_timeout, int statement_timeout_ms,
                       std::function<void()> upkeep)
    : provider_(provider), item_(item), statement_timeout_ms_(statement_timeout_ms),
      upkeep_(std::move(upkeep)),
      renewal_(core::SteadyClock::now(), core::renewal_interval(lock_timeout)),
      check_(core::SteadyClock::now(), core::lease_check_interval(lock_timeout)) {}

void RemoteHost::open() {
    if (provider_.in_transaction()) {
        return;
    }
    if (item_.item.session_id) {
        // No renewal can commit while the transaction is open: hold the session to the end
        // of the activity's lease first.
        provider_.renew(item_, true);
    }
    provider_.begin();
    if (statement_timeout_ms_ > 0) {
        provider_.connection().exec(
            "SELECT pg_catalog.set_config('statement_timeout', $1, true)",
            std::vector<std::optional<std::string>>{std::to_string(statement_timeout_ms_)});
    }
}

SqlResult RemoteHost::run_sql(std::string_view query,
                              std::span<const std::optional<std::string>> params) {
    open();
    Connection& connection = provider_.connection();
    connection.exec("SAVEPOINT duroxide_activity_statement");
    try {
        Rows rows = connection.exec(query, params);
        connection.exec("RELEASE SAVEPOINT duroxide_activity_statement");
        return SqlResult{std::move(rows.columns), std::move(rows.rows), rows.affected};
    } catch (const PgError& e) {
        if (connection.broken() || e.sqlstate().empty()) {
            throw; // the connection is gone: the slot reconnects, the server redelivers
        }
        connection.exec("ROLLBACK TO SAVEPOINT duroxide_activity_statement");
        throw ActivitySqlError(e.what(), e.sqlstate());
    }
}

bool RemoteHost::keep_lease() {
    if (upkeep_ && !provider_.in_transaction()) {
        upkeep_();
    }
    const auto at = core::SteadyClock::now();
    const bool renew = renewal_.due(at) && !provider_.in_transaction();
    if (!renew && !check_.due(at)) {
        return true;
    }
    const bool held = renew ? provider_.renew(item_, false) : provider_.holds(item_);
    if (renew && held) {
        renewal_.renewed(at);
    }
    check_.renewed(at);
    return held;
}

void RemoteHost::commit_with(const core::WorkItem& completion) {
    try {
        provider_.ack_work_item(item_, completion);
    } catch (...) {
        provider_.roll_back();
        throw;
    }
    provider_.commit();
}

} // namespace duroxide::worker
