#include "core/fiber/fiber.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using duroxide::core::Fiber;
using duroxide::core::StackPool;

TEST(Fiber, PingPongWithSharedState) {
    StackPool stacks;
    std::vector<std::string> log;
    Fiber fiber(stacks, [&] {
        log.push_back("a");
        Fiber::suspend();
        log.push_back("b");
        Fiber::suspend();
        log.push_back("c");
    });
    EXPECT_FALSE(fiber.started());
    EXPECT_FALSE(fiber.resume());
    log.push_back("1");
    EXPECT_FALSE(fiber.resume());
    log.push_back("2");
    EXPECT_TRUE(fiber.resume());
    EXPECT_TRUE(fiber.finished());
    EXPECT_EQ(log, (std::vector<std::string>{"a", "1", "b", "2", "c"}));
    EXPECT_THROW(fiber.resume(), std::logic_error);
}

TEST(Fiber, CurrentIsSetOnlyInsideTheFiber) {
    StackPool stacks;
    Fiber* seen = nullptr;
    Fiber fiber(stacks, [&] { seen = Fiber::current(); });
    EXPECT_EQ(Fiber::current(), nullptr);
    fiber.resume();
    EXPECT_EQ(seen, &fiber);
    EXPECT_EQ(Fiber::current(), nullptr);
    EXPECT_THROW(Fiber::suspend(), std::logic_error);
}

TEST(Fiber, ExceptionIsCapturedNotPropagated) {
    StackPool stacks;
    Fiber fiber(stacks, [] {
        Fiber::suspend();
        throw std::runtime_error("boom");
    });
    fiber.resume();
    EXPECT_TRUE(fiber.resume());
    ASSERT_TRUE(fiber.error());
    try {
        std::rethrow_exception(fiber.error());
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "boom");
    }
}

TEST(Fiber, DestroyingASuspendedFiberRunsItsDestructors) {
    StackPool stacks;
    int destroyed = 0;
    bool caught_generic = false;
    struct Probe {
        int& n;
        ~Probe() { ++n; }
    };
    {
        Fiber fiber(stacks, [&] {
            Probe outer{destroyed};
            try {
                Probe inner{destroyed};
                Fiber::suspend();
            } catch (...) {
                caught_generic = true;
                if (duroxide::core::is_forced_unwind()) {
                    throw;
                }
            }
        });
        fiber.resume();
        EXPECT_EQ(destroyed, 0);
    }
    EXPECT_EQ(destroyed, 2);
    EXPECT_TRUE(caught_generic); // the catch (...) saw it and passed it on
}

TEST(Fiber, NestedFibersResumeInside) {
    StackPool stacks;
    std::string trace;
    Fiber inner(stacks, [&] {
        trace += "i1";
        Fiber::suspend();
        trace += "i2";
    });
    Fiber outer(stacks, [&] {
        trace += "o1";
        inner.resume();
        trace += "o2";
        Fiber::suspend();
        inner.resume();
        trace += "o3";
    });
    outer.resume();
    trace += "|";
    outer.resume();
    EXPECT_EQ(trace, "o1i1o2|i2o3");
    EXPECT_TRUE(inner.finished());
    EXPECT_TRUE(outer.finished());
}

TEST(StackPool, StacksAreReused) {
    StackPool stacks(64 * 1024, 4);
    for (int i = 0; i < 10000; ++i) {
        Fiber fiber(stacks, [] { Fiber::suspend(); });
        fiber.resume();
    }
    EXPECT_EQ(stacks.mapped_stacks(), 1u);
    EXPECT_EQ(stacks.free_stacks(), 1u);
    {
        std::vector<std::unique_ptr<Fiber>> many;
        for (int i = 0; i < 10; ++i) {
            many.push_back(std::make_unique<Fiber>(stacks, [] { Fiber::suspend(); }));
            many.back()->resume();
        }
        EXPECT_EQ(stacks.mapped_stacks(), 10u);
    }
    EXPECT_EQ(stacks.free_stacks(), 4u); // bounded free list; the rest were unmapped
    EXPECT_EQ(stacks.mapped_stacks(), 4u);
}

namespace {
int recurse(int depth) {
    volatile char frame[1024];
    frame[0] = static_cast<char>(depth);
    return depth <= 0 ? frame[0] : recurse(depth - 1) + frame[0];
}
} // namespace

TEST(StackPoolDeathTest, OverflowHitsTheGuardPage) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            StackPool stacks(64 * 1024);
            Fiber fiber(stacks, [] { recurse(1 << 20); });
            fiber.resume();
        },
        testing::KilledBySignal(SIGSEGV), "");
}
