// The activity fiber runner against a fake host (no server): ctx.sql() requests cross to the
// main stack and back, lease loss cancels, the grace period ends in a forced unwind, and the
// renewal schedule.
#include "core/engine/activity_fiber.hpp"
#include "core/fiber/fiber.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

using namespace duroxide;
using namespace duroxide::core;
using namespace std::chrono_literals;

namespace {

class FakeHost final : public ActivityHost {
public:
    SqlResult run_sql(std::string_view query,
                      std::span<const std::optional<std::string>> params) override {
        on_main_stack.push_back(Fiber::current() == nullptr);
        statements.emplace_back(query);
        for (const auto& p : params) {
            statements.back() += " [" + p.value_or("NULL") + "]";
        }
        if (query.find("fail") != std::string_view::npos) {
            throw ActivitySqlError("relation \"fail\" does not exist", "42P01");
        }
        if (query.find("infrastructure") != std::string_view::npos) {
            throw std::runtime_error("the worker's transaction broke");
        }
        SqlResult result;
        result.columns = {"echo"};
        result.rows.push_back({std::string(query)});
        result.rows.push_back({std::nullopt});
        result.affected = 2;
        return result;
    }
    bool keep_lease() override {
        ++suspensions;
        on_main_stack.push_back(Fiber::current() == nullptr);
        if (lose_lease_at && suspensions >= *lose_lease_at) {
            return false;
        }
        return true;
    }
    // Time moves on by `step` each time the runner looks at the clock.
    SteadyClock::time_point now() override { return clock += step; }

    std::vector<std::string> statements;
    std::vector<bool> on_main_stack;
    int suspensions = 0;
    std::optional<int> lose_lease_at; // the suspension whose renewal fails
    SteadyClock::time_point clock{};
    std::chrono::milliseconds step = 100ms;
};

work::ActivityExecute item(std::string name = "Act") {
    work::ActivityExecute execute;
    execute.instance = "i1";
    execute.execution_id = 1;
    execute.id = 2;
    execute.name = std::move(name);
    execute.input = "in";
    return execute;
}

ActivityRun run(const ActivityFn& handler, FakeHost& host, std::chrono::milliseconds grace = 10s) {
    StackPool stacks;
    ActivityEnvironment environment{"worker", nullptr, nullptr};
    return run_activity_on_fiber(handler, item(), environment, stacks, host, grace);
}

std::string output_of(const ActivityRun& r) {
    return std::get<work::ActivityCompleted>(r.completion->kind).result;
}

} // namespace

TEST(ActivityFiber, SqlRunsOnTheMainStackAndResumesWithRows) {
    FakeHost host;
    bool on_fiber = false;
    auto r = run(
        [&](ActivityContext& ctx, const std::string& input) {
            on_fiber = Fiber::current() != nullptr;
            SqlResult rows = ctx.sql("INSERT $1 $2 $3", input, 42, std::nullopt);
            return rows.columns[0] + "=" + *rows.rows[0][0] + "/" +
                   (rows.rows[1][0] ? "value" : "null") + "/" + std::to_string(rows.affected);
        },
        host);
    EXPECT_TRUE(on_fiber);
    EXPECT_EQ(r.outcome, ActivityRun::Outcome::Finished);
    EXPECT_TRUE(r.used_sql);
    EXPECT_EQ(output_of(r), "echo=INSERT $1 $2 $3/null/2");
    EXPECT_EQ(host.statements, (std::vector<std::string>{"INSERT $1 $2 $3 [in] [42] [NULL]"}));
    for (bool main_stack : host.on_main_stack) {
        EXPECT_TRUE(main_stack);
    }
}

TEST(ActivityFiber, AnSqlErrorCanBeCaughtAndTheActivityGoesOn) {
    FakeHost host;
    auto r = run(
        [](ActivityContext& ctx, const std::string&) {
            std::string state;
            try {
                ctx.sql("SELECT * FROM fail");
            } catch (const ActivitySqlError& e) {
                state = e.sqlstate();
            }
            ctx.sql("SELECT 1");
            return state;
        },
        host);
    EXPECT_EQ(output_of(r), "42P01");
    EXPECT_EQ(host.statements.size(), 2u);
}

TEST(ActivityFiber, AnUncaughtSqlErrorFailsTheActivity) {
    FakeHost host;
    auto r = run(
        [](ActivityContext& ctx, const std::string&) -> std::string {
            ctx.sql("SELECT * FROM fail");
            return "unreachable";
        },
        host);
    EXPECT_EQ(r.outcome, ActivityRun::Outcome::Finished);
    const auto& failed = std::get<work::ActivityFailed>(r.completion->kind);
    EXPECT_NE(failed.details.display_message().find("does not exist"), std::string::npos);
}

TEST(ActivityFiber, AHostFailureUnwindsTheFiberAndLeavesTheRunner) {
    FakeHost host;
    bool destroyed = false;
    struct Sentinel {
        bool& flag;
        ~Sentinel() { flag = true; }
    };
    EXPECT_THROW(run(
                     [&](ActivityContext& ctx, const std::string&) {
                         Sentinel sentinel{destroyed};
                         ctx.sql("SELECT infrastructure");
                         return std::string("unreachable");
                     },
                     host),
                 std::runtime_error);
    EXPECT_TRUE(destroyed);
}

TEST(ActivityFiber, HeartbeatsKeepTheLeaseAtEverySuspension) {
    FakeHost host;
    auto r = run(
        [](ActivityContext& ctx, const std::string&) {
            for (int i = 0; i < 5; ++i) {
                ctx.heartbeat();
            }
            return std::string(ctx.is_cancelled() ? "cancelled" : "done");
        },
        host);
    EXPECT_EQ(output_of(r), "done");
    EXPECT_EQ(host.suspensions, 6);
    EXPECT_FALSE(r.used_sql);
}

TEST(ActivityFiber, ALostLeaseCancelsAndTheResultIsDropped) {
    FakeHost host;
    host.lose_lease_at = 3;
    int loops = 0;
    bool threw_cancelled = false;
    auto r = run(
        [&](ActivityContext& ctx, const std::string&) {
            while (!ctx.is_cancelled()) {
                ++loops;
            }
            try {
                ctx.sql("INSERT after cancellation");
            } catch (const ActivityCancelled&) {
                threw_cancelled = true;
            }
            return std::string("late result");
        },
        host);
    EXPECT_EQ(loops, 2);
    EXPECT_TRUE(threw_cancelled);
    EXPECT_TRUE(host.statements.empty()); // nothing reached the host after cancellation
    EXPECT_EQ(r.outcome, ActivityRun::Outcome::Cancelled);
    EXPECT_FALSE(r.completion);
}

TEST(ActivityFiber, PastTheGracePeriodTheNextSuspensionUnwindsTheFiber) {
    FakeHost host;
    host.lose_lease_at = 2;
    bool destroyed = false;
    int heartbeats_after_cancel = 0;
    struct Sentinel {
        bool& flag;
        ~Sentinel() { flag = true; }
    };
    auto r = run(
        [&](ActivityContext& ctx, const std::string&) {
            Sentinel sentinel{destroyed};
            for (;;) {
                try {
                    ctx.heartbeat(); // ignores cancellation
                } catch (...) {
                    if (is_forced_unwind()) {
                        throw;
                    }
                }
                if (ctx.is_cancelled()) {
                    ++heartbeats_after_cancel;
                }
            }
            return std::string("never");
        },
        host, 350ms);
    EXPECT_EQ(r.outcome, ActivityRun::Outcome::Unwound);
    EXPECT_TRUE(destroyed);
    EXPECT_FALSE(r.completion);
    // The lease is asked for only until it is lost (the second suspension, clock at 100 ms);
    // each suspension then reads the clock once more (200, 300, 400 ms: the activity sees two
    // is_cancelled() == true) and the one at 500 ms is past the 350 ms grace period.
    EXPECT_EQ(host.suspensions, 2);
    EXPECT_EQ(heartbeats_after_cancel, 2);
}

TEST(ActivityFiber, ZeroGraceUnwindsAtTheSuspensionThatSeesTheLoss) {
    FakeHost host;
    host.lose_lease_at = 1;
    bool saw_cancel = false;
    auto r = run(
        [&](ActivityContext& ctx, const std::string&) {
            saw_cancel = ctx.is_cancelled();
            return std::string("x");
        },
        host, 0ms);
    EXPECT_EQ(r.outcome, ActivityRun::Outcome::Unwound);
    EXPECT_FALSE(saw_cancel);
}

TEST(ActivityFiber, NoSuspensionInACatchBlock) {
    FakeHost host;
    auto r = run(
        [](ActivityContext& ctx, const std::string&) {
            std::string seen;
            try {
                throw std::runtime_error("x");
            } catch (const std::exception&) {
                ctx.heartbeat(); // answered without suspending
                try {
                    ctx.sql("SELECT 1");
                } catch (const std::logic_error& e) {
                    seen = e.what();
                }
            }
            return seen;
        },
        host);
    EXPECT_EQ(host.suspensions, 0);
    EXPECT_NE(output_of(r).find("catch block"), std::string::npos);
}

TEST(ActivityFiber, SqlWithoutAFiberRunnerIsALogicError) {
    ActivityEnvironment environment{"worker", nullptr, nullptr};
    auto completion = run_activity(
        [](ActivityContext& ctx, const std::string&) {
            ctx.heartbeat();
            EXPECT_FALSE(ctx.is_cancelled());
            ctx.sql("SELECT 1");
            return std::string("unreachable");
        },
        item(), environment);
    EXPECT_TRUE(std::holds_alternative<work::ActivityFailed>(completion.kind));
}

TEST(LeaseRenewal, IntervalIsHalfTheLease) {
    EXPECT_EQ(renewal_interval(300s), 150s);
    EXPECT_EQ(renewal_interval(1s), 500ms);
    EXPECT_EQ(renewal_interval(3ms), 1ms);
    EXPECT_EQ(renewal_interval(1ms), 1ms); // never zero
}

TEST(LeaseRenewal, CancellationIsLookedForEverySecondAtMost) {
    EXPECT_EQ(lease_check_interval(300s), 1s);
    EXPECT_EQ(lease_check_interval(2s), 1s);
    EXPECT_EQ(lease_check_interval(1s), 500ms); // the renewal comes first
}

TEST(LeaseRenewal, ScheduleIsDueAfterEachInterval) {
    const SteadyClock::time_point t0{};
    LeaseSchedule schedule(t0, 500ms);
    EXPECT_FALSE(schedule.due(t0 + 499ms));
    EXPECT_TRUE(schedule.due(t0 + 500ms));
    schedule.renewed(t0 + 700ms);
    EXPECT_FALSE(schedule.due(t0 + 1199ms));
    EXPECT_TRUE(schedule.due(t0 + 1200ms));
}
