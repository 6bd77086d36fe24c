// The remote worker's side of a running plugin activity (core::ActivityHost): ctx.sql()
// statements run on the slot's connection in the activity's transaction (opened at the first
// one, each statement in a savepoint so that an SQL error leaves the transaction usable), and
// the completion is recorded in that transaction. As in-server (runtime/activity/
// activity_execution.cpp), the lease is renewed at suspension points while no transaction is
// open and only checked while one is, and a session activity holds its session through its
// lease before the transaction opens.
#pragma once

#include "core/engine/activity_fiber.hpp"
#include "worker/libpq_activity_provider.hpp"

#include <functional>

namespace duroxide::worker {

class RemoteHost final : public core::ActivityHost {
public:
    // `upkeep` runs at suspension points while no transaction is open (the slot's session
    // renewals, on their own schedule).
    RemoteHost(LibpqActivityProvider& provider, const core::provider::ActivityItem& item,
               std::chrono::milliseconds lock_timeout, int statement_timeout_ms,
               std::function<void()> upkeep);

    SqlResult run_sql(std::string_view query,
                      std::span<const std::optional<std::string>> params) override;
    bool keep_lease() override;
    core::SteadyClock::time_point now() override { return core::SteadyClock::now(); }

    // Records `completion` with the statements and commits; throws LeaseLost after rolling
    // back when the lease is gone.
    void commit_with(const core::WorkItem& completion);
    void roll_back() { provider_.roll_back(); }

private:
    void open();

    LibpqActivityProvider& provider_;
    const core::provider::ActivityItem& item_;
    int statement_timeout_ms_;
    std::function<void()> upkeep_;
    core::LeaseSchedule renewal_;
    core::LeaseSchedule check_;
};

} // namespace duroxide::worker
