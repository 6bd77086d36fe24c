#include "duroxide/registry.hpp"
#include "duroxide/retry_policy.hpp"
#include "duroxide/semver.hpp"
#include "core/retry/timing.hpp"

#include <gtest/gtest.h>

using namespace duroxide;
using std::chrono::milliseconds;

namespace {
OrchestrationFn returns(std::string value) {
    return [value](OrchestrationContext&, const std::string&) { return value; };
}
ActivityFn activity() {
    return [](ActivityContext&, const std::string& in) { return in; };
}
} // namespace

TEST(Semver, ParsesAndOrders) {
    EXPECT_EQ(Semver::parse("1.2.3").to_string(), "1.2.3");
    EXPECT_LT(Semver::parse("1.2.3"), Semver::parse("1.10.0"));
    EXPECT_LT(Semver::parse("0.9.9"), Semver::parse("1.0.0"));
    EXPECT_EQ(Semver::parse("2.0.0"), (Semver{2, 0, 0}));
    for (const char* bad : {"", "1", "1.2", "1.2.3.4", "a.b.c", "1..2", "-1.0.0", "1.0.0-beta",
                            "99999999999.0.0", " 1.0.0"}) {
        EXPECT_THROW(Semver::parse(bad), std::invalid_argument) << bad;
    }
}

TEST(OrchestrationRegistry, LatestByDefaultExactByPolicy) {
    OrchestrationRegistry registry;
    registry.register_orchestration("Versioned", returns("v1"));
    registry.register_versioned("Versioned", "2.0.0", returns("v2"));
    const auto v1 = registry.resolve_exact("Versioned", Semver::parse("1.0.0"));
    const auto v2 = registry.resolve_exact("Versioned", Semver::parse("2.0.0"));
    ASSERT_TRUE(v1 && v2);
    EXPECT_NE(v1->handler, v2->handler);
    EXPECT_EQ(registry.resolve("Versioned")->version.to_string(), "2.0.0");
    EXPECT_EQ(registry.resolve("Versioned")->handler, v2->handler);
    registry.set_policy("Versioned", VersionPolicy::exact(Semver::parse("1.0.0")));
    EXPECT_EQ(registry.resolve("Versioned")->handler, v1->handler);
    registry.set_policy("Versioned", VersionPolicy::latest());
    EXPECT_EQ(registry.resolve("Versioned")->handler, v2->handler);
    registry.set_policy("Versioned", VersionPolicy::exact(Semver::parse("1.0.0")));
    EXPECT_FALSE(registry.resolve_exact("Versioned", Semver::parse("3.0.0")));
    EXPECT_FALSE(registry.resolve("Missing"));
    registry.set_policy("Versioned", VersionPolicy::exact(Semver::parse("9.0.0")));
    EXPECT_FALSE(registry.resolve("Versioned")); // pinned to a version that does not exist
    EXPECT_THROW(registry.set_policy("Missing", VersionPolicy::latest()), RegistryError);
    EXPECT_EQ(registry.versions("Versioned").size(), 2u);
}

TEST(OrchestrationRegistry, VersionsMustIncreaseStrictly) {
    OrchestrationRegistry registry;
    registry.register_versioned("O", "1.5.0", returns(""));
    EXPECT_THROW(registry.register_versioned("O", "1.5.0", returns("")), RegistryError);
    EXPECT_THROW(registry.register_versioned("O", "1.4.9", returns("")), RegistryError);
    EXPECT_THROW(registry.register_versioned("O", "bad", returns("")), std::invalid_argument);
    EXPECT_NO_THROW(registry.register_versioned("O", "1.5.1", returns("")));
}

TEST(Registries, ReservedPrefixAndEmptyNamesAreRefused) {
    OrchestrationRegistry orchestrations;
    ActivityRegistry activities;
    EXPECT_THROW(orchestrations.register_orchestration("", returns("")), RegistryError);
    EXPECT_THROW(orchestrations.register_orchestration("__duroxide_syscall:x", returns("")),
                 RegistryError);
    EXPECT_THROW(activities.register_activity("__duroxide_syscall:new_guid", activity()),
                 RegistryError);
    EXPECT_NO_THROW(activities.register_system_activity("__duroxide_syscall:new_guid", activity()));
    EXPECT_THROW(activities.register_system_activity("plain", activity()), RegistryError);
    activities.register_activity("A", activity());
    EXPECT_THROW(activities.register_activity("A", activity()), RegistryError);
    EXPECT_NE(activities.find("A"), nullptr);
    EXPECT_EQ(activities.find("B"), nullptr);
}

TEST(Registries, MergeRefusesConflicts) {
    OrchestrationRegistry a, b, c;
    a.register_orchestration("One", returns("1"));
    b.register_orchestration("Two", returns("2"));
    c.register_orchestration("One", returns("other"));
    a.merge(b);
    EXPECT_EQ(a.names(), (std::vector<std::string>{"One", "Two"}));
    EXPECT_THROW(a.merge(c), RegistryError);
    EXPECT_EQ(a.names().size(), 2u); // a failed merge changes nothing
    ActivityRegistry x, y;
    x.register_activity("A", activity());
    y.register_activity("A", activity());
    EXPECT_THROW(x.merge(y), RegistryError);
}

TEST(RetryPolicy, BackoffMath) {
    EXPECT_THROW(RetryPolicy(0), std::invalid_argument);
    RetryPolicy defaults;
    EXPECT_EQ(defaults.max_attempts(), 3u);
    EXPECT_EQ(defaults.delay_for_attempt(1), milliseconds(100));
    EXPECT_EQ(defaults.delay_for_attempt(2), milliseconds(200));
    EXPECT_EQ(defaults.delay_for_attempt(3), milliseconds(400));
    EXPECT_EQ(defaults.delay_for_attempt(20), milliseconds(30000));   // capped
    EXPECT_EQ(defaults.delay_for_attempt(5000), milliseconds(30000)); // no overflow
    EXPECT_FALSE(defaults.timeout());

    EXPECT_EQ(RetryPolicy(5).with_backoff(NoBackoff{}).delay_for_attempt(3), milliseconds(0));
    EXPECT_EQ(RetryPolicy(5).with_backoff(FixedBackoff{milliseconds(250)}).delay_for_attempt(4),
              milliseconds(250));
    RetryPolicy linear =
        RetryPolicy(5).with_backoff(LinearBackoff{milliseconds(100), milliseconds(250)});
    EXPECT_EQ(linear.delay_for_attempt(1), milliseconds(100));
    EXPECT_EQ(linear.delay_for_attempt(2), milliseconds(200));
    EXPECT_EQ(linear.delay_for_attempt(3), milliseconds(250));
    RetryPolicy exp =
        RetryPolicy(5)
            .with_backoff(ExponentialBackoff{milliseconds(10), 3.0, milliseconds(1000)})
            .with_timeout(milliseconds(50));
    EXPECT_EQ(exp.delay_for_attempt(1), milliseconds(10));
    EXPECT_EQ(exp.delay_for_attempt(3), milliseconds(90));
    EXPECT_EQ(exp.delay_for_attempt(6), milliseconds(1000));
    EXPECT_EQ(exp.timeout(), milliseconds(50));
}

TEST(RuntimeTiming, UnregisteredBackoffDoublesToTheCap) {
    using duroxide::core::unregistered_backoff;
    EXPECT_EQ(unregistered_backoff(1), milliseconds(1000));
    EXPECT_EQ(unregistered_backoff(2), milliseconds(2000));
    EXPECT_EQ(unregistered_backoff(6), milliseconds(32000));
    EXPECT_EQ(unregistered_backoff(7), milliseconds(60000));
    EXPECT_EQ(unregistered_backoff(100), milliseconds(60000));
    EXPECT_EQ(unregistered_backoff(0), milliseconds(1000));
}

TEST(RuntimeTiming, LockRenewalInterval) {
    using duroxide::core::lock_renewal_interval;
    EXPECT_EQ(lock_renewal_interval(milliseconds(30000), milliseconds(5000)), milliseconds(25000));
    EXPECT_EQ(lock_renewal_interval(milliseconds(15000), milliseconds(5000)), milliseconds(10000));
    EXPECT_EQ(lock_renewal_interval(milliseconds(5000), milliseconds(2000)), milliseconds(2500));
    EXPECT_EQ(lock_renewal_interval(milliseconds(1001), milliseconds(500)), milliseconds(1000));
    EXPECT_EQ(lock_renewal_interval(milliseconds(3), milliseconds(1)), milliseconds(1000));
}
