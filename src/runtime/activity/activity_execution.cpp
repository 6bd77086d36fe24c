#include "runtime/activity/activity_execution.hpp"

#include "core/engine/activity_fiber.hpp"
#include "pg/guard.hpp"
#include "pg/transaction.hpp"
#include "runtime/activity/activity_envelope.hpp"
#include "runtime/activity/activity_outcomes.hpp"
#include "runtime/activity/inline_turns.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/services/metrics.hpp"
#include "runtime/activity/sessions.hpp"
#include "runtime/activity/sql_activity_registration.hpp"
#include "runtime/process/unit_of_work.hpp"
#include "store/pg_activity_provider.hpp"

#include <set>
#include <utility>

extern "C" {
#include "miscadmin.h"
#include "utils/guc.h"
}

namespace duroxide::runtime {

namespace {

void log_line(int elevel, const std::string& message) {
    pg::call([elevel, &message] { ereport(elevel, (errmsg_internal("%s", message.c_str()))); });
}

// Fiber stacks of activities: one pool for the worker process.
core::StackPool& activity_stacks() {
    static core::StackPool stacks(static_cast<std::size_t>(settings.fiber_stack_kb) * 1024);
    return stacks;
}

// The worker's side of a running plugin activity. Its transaction (opened by the first
// ctx.sql()) holds the statements' writes until commit_with() records the completion in it;
// destroying the host without that rolls them back. This is PostgreSQL-specific and stays
// here rather than behind the provider contract (store/pg_activity_provider): the transaction
// opens on the main stack while the activity's fiber is suspended, stays open across its
// suspension points (where the lease is only checked, never renewed: a renewal cannot commit
// without the statements) and ends with the store's ack in it; no single call of the contract
// spans that.
class WorkerHost final : public core::ActivityHost {
public:
    WorkerHost(const store::FetchedActivity& fetched, const store::SessionOwner& session_owner,
               SessionKeeper& sessions, const std::function<void()>& record_held,
               InlineTurns& inline_turns)
        : fetched_(fetched), session_owner_(session_owner), sessions_(sessions),
          record_held_(record_held), inline_turns_(inline_turns),
          renewal_(core::SteadyClock::now(), core::renewal_interval(lease())),
          check_(core::SteadyClock::now(), core::lease_check_interval(lease())) {}

    SqlResult run_sql(std::string_view query,
                      std::span<const std::optional<std::string>> params) override {
        open();
        // As the role that registered the plugin, never as the worker's superuser, in the
        // activity envelope (runtime/activity/activity_envelope.hpp): a SET in the statement ends
        // with it, nothing of the session outlives it, and it has the activity statement timeout.
        const pg::EnvelopeSettings envelope =
            activity_envelope(run_as_, std::nullopt,
                              "a ctx.sql() statement of activity \"" + fetched_.item.name + "\"");
        try {
            // Plain execution: the session's planner settings, no plan kept past the statement.
            pg::SpiRows rows =
                run_activity_code(envelope, [&] { return spi_->execute(query, params); });
            return SqlResult{std::move(rows.columns), std::move(rows.rows), rows.processed};
        } catch (const pg::SqlError& e) {
            throw ActivitySqlError(e.detail().empty() || e.sqlstate() != ERRCODE_QUERY_CANCELED
                                       ? std::string(e.what())
                                       : std::string(e.what()) + ": " + e.detail(),
                                   e.sqlstate_text());
        }
    }

    bool keep_lease() override {
        // A suspension point is also where the worker answers SIGTERM during a long activity.
        pg::call([] { CHECK_FOR_INTERRUPTS(); });
        if (record_held_ && !transaction_) {
            // An activity that suspends may run long: the completions held for the batch
            // are recorded first, while their leases are still good.
            std::exchange(record_held_, nullptr)();
        }
        const auto now = core::SteadyClock::now();
        const bool renew = renewal_.due(now) && !transaction_;
        // The session leases are renewed on the schedule of the worker's session upkeep, which
        // cannot run now; a session activity's also with its own lease, for session leases as
        // short as the one-second minimum that the upkeep's schedule (never under a second)
        // would leave without slack.
        const bool renew_sessions =
            !transaction_ && (sessions_.renewal_due() || (renew && fetched_.item.session_id));
        if (!renew && !renew_sessions && !check_.due(now)) {
            return true;
        }
        bool held;
        if (transaction_) {
            // A renewal cannot commit without committing the statements: only check that
            // the lease is still ours (a cancellation deletes the row; an expiry shows).
            held = store::Store(*spi_).holds_work_item_lease(fetched_);
        } else {
            pg::WorkerTransaction unit(renew            ? "duroxide: renewing an activity lease"
                                       : renew_sessions ? "duroxide: renewing session leases"
                                                        : "duroxide: checking an activity lease");
            {
                pg::SpiConnection spi;
                begin_unit(spi, Commit::Relaxed);
                store::Store store(spi);
                held = renew ? store.renew_work_item_lock(fetched_, settings.worker_lock_timeout_ms)
                             : store.holds_work_item_lease(fetched_);
                if (held && renew_sessions) {
                    // A session activity whose session was closed or taken over is cancelled.
                    held = sessions_.renew_for_running_activity(store, fetched_, false);
                }
            }
            unit.commit();
            if (renew && held) {
                metrics::add(metrics::Counter::LockRenewals);
                renewal_.renewed(now);
            }
        }
        check_.renewed(now);
        return held;
    }

    core::SteadyClock::time_point now() override { return core::SteadyClock::now(); }

    // Records `completion` in the transaction of the statements, with the instance's next turn
    // when it can run inline, and commits; throws store::LeaseLost (after rolling back) when
    // the lease is gone.
    void commit_with(const core::WorkItem& completion) {
        try {
            store::Store store(*spi_);
            store.ack_work_item(fetched_, completion, session_owner_);
            inline_turns_.completed(completion, fetched_.attempt_count);
            inline_turns_.run(*spi_, store);
            spi_.reset();
            transaction_->commit();
            transaction_.reset();
        } catch (...) {
            inline_turns_.finished(false);
            throw;
        }
        inline_turns_.finished(true);
    }

    void roll_back() {
        spi_.reset();
        transaction_.reset();
    }

private:
    static std::chrono::milliseconds lease() {
        return std::chrono::milliseconds(settings.worker_lock_timeout_ms);
    }

    // Opens the activity's transaction at its first statement, and finds the role to run as.
    void open() {
        if (!transaction_) {
            if (fetched_.item.session_id) {
                hold_session_through_lease();
            }
            transaction_.emplace("duroxide: activity " + fetched_.item.name);
            spi_.emplace();
            begin_unit(*spi_, Commit::Durable);
        }
        if (run_as_ != InvalidOid) {
            return;
        }
        const std::optional<store::PluginRole> role =
            store::Store(*spi_).activity_plugin_role(fetched_.item.name);
        if (!role) {
            throw ActivitySqlError("the plugin of activity \"" + fetched_.item.name +
                                       "\" is no longer registered: its statements have no "
                                       "role to run as",
                                   "42501");
        }
        const Oid role_oid = role->role;
        if (auto refusal = superuser_run_as_refusal(role_oid, role->registered_by_superuser,
                                                    "the ctx.sql() of activity \"" +
                                                        fetched_.item.name + "\"")) {
            throw ActivitySqlError(*refusal, "42501");
        }
        run_as_ = role_oid;
        warn_if_superuser();
    }

    // From the first statement on, the activity's transaction stays open until its completion
    // commits, and a backend runs one transaction at a time: no lease renewal can commit until
    // then (the activity's own lease is only checked). So the session is held now, in a short
    // transaction before the activity's opens, until the activity's lease ends: past that the
    // activity cannot complete anyway. Nothing writes the session row while the activity's
    // transaction is open (it may lock that row itself, e.g. a statement releasing the
    // session), so there is no waiting on it either.
    void hold_session_through_lease() {
        pg::WorkerTransaction unit("duroxide: holding a session for an activity");
        {
            pg::SpiConnection spi;
            begin_unit(spi, Commit::Relaxed);
            store::Store store(spi);
            sessions_.renew_for_running_activity(store, fetched_, true);
        }
        unit.commit();
    }

    // Said once per worker process and role: a superuser's statements can do anything.
    void warn_if_superuser() const {
        static std::set<Oid> warned;
        const Oid role = run_as_;
        if (warned.count(role) != 0 || !pg::call([role] { return superuser_arg(role); })) {
            return;
        }
        warned.insert(role);
        log_line(WARNING, "duroxide: ctx.sql() of plugin activities runs as the role that "
                          "registered their plugin, here a superuser (oid " +
                              std::to_string(role) +
                              "); register plugins as a role with only the privileges their "
                              "activities need");
    }

    const store::FetchedActivity& fetched_;
    const store::SessionOwner& session_owner_;
    SessionKeeper& sessions_;
    std::function<void()> record_held_; // until called once
    InlineTurns& inline_turns_;
    core::LeaseSchedule renewal_; // extends the lease
    core::LeaseSchedule check_;   // only looks whether it is still ours (cancellation)
    // Declared before spi_: the SPI connection ends before its transaction does.
    std::optional<pg::WorkerTransaction> transaction_;
    std::optional<pg::SpiConnection> spi_;
    Oid run_as_ = InvalidOid;
};

} // namespace

PluginActivityOutcome
run_plugin_activity(core::provider::ActivityProvider& provider, const ActivityFn& handler,
                    const store::FetchedActivity& fetched, const store::SessionOwner& session_owner,
                    SessionKeeper& sessions, const core::ActivityEnvironment& environment,
                    const std::function<void()>& record_held, InlineTurns& inline_turns) {
    PluginActivityOutcome outcome;
    std::string failure;
    try {
        WorkerHost host(fetched, session_owner, sessions, record_held, inline_turns);
        core::ActivityRun run = core::run_activity_on_fiber(
            handler, fetched.item, environment, activity_stacks(), host,
            std::chrono::milliseconds(settings.activity_cancellation_grace_period_ms));
        if (run.outcome != core::ActivityRun::Outcome::Finished) {
            host.roll_back();
            metrics::add(metrics::Counter::ActivitiesCancelled);
            log_line(LOG, "duroxide: " + activity_message_label(fetched.item) +
                              (run.outcome == core::ActivityRun::Outcome::Unwound
                                   ? " was cancelled and unwound after its grace period"
                                   : " was cancelled") +
                              ": nothing is recorded");
            return outcome;
        }
        const bool completed =
            std::holds_alternative<core::work::ActivityCompleted>(run.completion->kind);
        if (!run.used_sql || !completed) {
            host.roll_back(); // a failed activity's statements do not stand
            outcome.to_record = std::move(run.completion);
            return outcome;
        }
        try {
            host.commit_with(*run.completion);
            outcome.recorded = std::move(run.completion);
        } catch (const store::LeaseLost& e) {
            metrics::add(metrics::Counter::LockSteals);
            log_line(LOG, std::string("duroxide: ") + e.what() +
                              " (its ctx.sql() writes are rolled back)");
        }
        return outcome;
    } catch (const std::exception& e) {
        failure = e.what(); // the host (and its transaction) are gone now
    }
    give_back_activity(provider, store::activity_item(fetched), failure);
    return outcome;
}

} // namespace duroxide::runtime
