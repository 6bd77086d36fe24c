// Sub-orchestration ids (issue 18, defect 5): checked at schedule time like the SQL API's ids,
// never the parent's or its parent's own id, and a parent whose chosen id is already taken by
// an instance that is not its child hears so (SubOrchestrationFailed) instead of waiting.
#include "memory_runtime.hpp"

#include "core/replay/child_ids.hpp"
#include "core/validation/identifiers.hpp"
#include "duroxide/orchestration_context.hpp"

#include <gtest/gtest.h>

using namespace duroxide;
using duroxide::testing::MemoryRuntime;

namespace {

struct ChildIds : ::testing::Test {
    MemoryRuntime rt;
    void SetUp() override {
        auto& o = rt.orchestrations;
        o.register_orchestration(
            "Leaf", [](OrchestrationContext&, const std::string& in) { return "leaf:" + in; });
        // Calls a child with the id given as input ("-" for a generated one) and reports how
        // it ended; the code catches the child's failure.
        o.register_orchestration("Caller", [](OrchestrationContext& ctx, const std::string& in) {
            const auto outcome = in == "-" ? ctx.schedule_sub_orchestration("Leaf", "x").get()
                                           : ctx.schedule_sub_orchestration(
                                                    "Leaf", "x", std::string_view(in), std::nullopt)
                                                 .get();
            return outcome.ok() ? "ok:" + outcome.value() : "failed:" + outcome.error();
        });
        // Nests itself `in` levels deep with generated ids.
        o.register_orchestration("Nest", [](OrchestrationContext& ctx, const std::string& in) {
            const int depth = std::stoi(in);
            if (depth == 0) {
                return std::string("bottom");
            }
            return ctx.schedule_sub_orchestration("Nest", std::to_string(depth - 1)).value();
        });
        // Calls a child whose id is its own parent's.
        o.register_orchestration(
            "CallsGrandparent", [](OrchestrationContext& ctx, const std::string&) {
                return ctx
                    .schedule_sub_orchestration("Leaf", "x", std::string_view("root"), std::nullopt)
                    .value();
            });
        o.register_orchestration("Root", [](OrchestrationContext& ctx, const std::string&) {
            return ctx.schedule_sub_orchestration("CallsGrandparent", "").value();
        });
        o.register_orchestration("Waits", [](OrchestrationContext& ctx, const std::string&) {
            return ctx.schedule_wait("Go").value();
        });
    }
};

TEST(ChildIdProblem, FollowsTheSqlApiRules) {
    EXPECT_EQ(core::child_id_problem("kid", "p", std::nullopt), std::nullopt);
    EXPECT_NE(core::child_id_problem("", "p", std::nullopt), std::nullopt);
    EXPECT_NE(core::child_id_problem(std::string(257, 'k'), "p", std::nullopt), std::nullopt);
    EXPECT_EQ(core::child_id_problem(std::string(256, 'k'), "p", std::nullopt), std::nullopt);
    EXPECT_NE(core::child_id_problem("a\nb", "p", std::nullopt), std::nullopt);
    EXPECT_NE(core::child_id_problem("p", "p", std::nullopt), std::nullopt);
    EXPECT_NE(core::child_id_problem("g", "p", std::string("g")), std::nullopt);
}

TEST_F(ChildIds, EmptyIdFailsTheParentAtScheduleTime) {
    rt.start("e", "Caller", "");
    const auto& parent = rt.finish("e");
    EXPECT_EQ(parent.status, "Failed");
    EXPECT_EQ(parent.output, "sub-orchestration instance id \"\": must not be empty");
    EXPECT_EQ(rt.shape("e"), "1 OrchestrationStarted, 2 OrchestrationFailed");
    EXPECT_EQ(rt.instances.size(), 1u); // no child was created
}

TEST_F(ChildIds, OverlongIdFailsTheParent) {
    rt.start("long", "Caller", std::string(300, 'k'));
    const auto& parent = rt.finish("long");
    EXPECT_EQ(parent.status, "Failed");
    EXPECT_NE(parent.output.find("sub-orchestration instance id \"kkkk"), std::string::npos);
    EXPECT_NE(parent.output.find("256"), std::string::npos) << parent.output;
    EXPECT_EQ(rt.shape("long"), "1 OrchestrationStarted, 2 OrchestrationFailed");
    EXPECT_EQ(rt.instances.size(), 1u);
}

TEST_F(ChildIds, OwnIdFailsTheParentInsteadOfHanging) {
    rt.start("self", "Caller", "self");
    const auto& parent = rt.finish("self");
    EXPECT_EQ(parent.status, "Failed");
    EXPECT_EQ(parent.output, "sub-orchestration instance id \"self\" is the id of the "
                             "orchestration that schedules it");
    EXPECT_EQ(rt.shape("self"), "1 OrchestrationStarted, 2 OrchestrationFailed");
}

TEST_F(ChildIds, ParentIdOfTheParentFailsTheChildAtScheduleTime) {
    rt.start("root", "Root", "");
    const auto& root = rt.finish("root");
    EXPECT_EQ(root.status, "Failed");
    EXPECT_EQ(root.output, "sub-orchestration instance id \"root\" is the id of an ancestor of "
                           "the orchestration that schedules it");
    EXPECT_EQ(rt.shape("root::sub::2"), "1 OrchestrationStarted, 2 OrchestrationFailed");
    EXPECT_EQ(rt.shape("root"), "1 OrchestrationStarted, 2 SubOrchestrationScheduled, "
                                "3 SubOrchestrationFailed<2, 4 OrchestrationFailed");
}

TEST_F(ChildIds, DeepGeneratedNestingFailsOnceTheIdIsTooLong) {
    // Each level adds "::sub::2" (8 bytes) to "n": the id of level 32 would have 1 + 32 * 8 =
    // 257 bytes, so level 31 fails when it schedules it.
    rt.start("n", "Nest", "40");
    const auto& root = rt.finish("n");
    EXPECT_EQ(root.status, "Failed");
    std::string deepest = "n";
    for (int level = 0; level < 31; ++level) {
        deepest += "::sub::2";
    }
    ASSERT_EQ(deepest.size(), 249u);
    ASSERT_TRUE(rt.instances.count(deepest));
    EXPECT_EQ(rt.instances.at(deepest).current().status, "Failed");
    EXPECT_EQ(rt.shape(deepest), "1 OrchestrationStarted, 2 OrchestrationFailed");
    EXPECT_NE(rt.instances.at(deepest).current().output.find("256"), std::string::npos);
    EXPECT_EQ(rt.instances.count(deepest + "::sub::2"), 0u); // never created
    for (const auto& [id, instance] : rt.instances) {
        EXPECT_LE(id.size(), core::kMaxIdentifierBytes) << id;
    }
}

TEST_F(ChildIds, TakenIdOfAnotherRootFailsTheChildCall) {
    rt.start("taken", "Waits", "");
    rt.run([&] { return rt.instances.count("taken") != 0; });
    rt.start("caller", "Caller", "taken");
    const auto& caller = rt.finish("caller");
    EXPECT_EQ(caller.status, "Completed");
    EXPECT_EQ(caller.output, "failed:sub-orchestration instance id \"taken\" is already in use "
                             "by another instance: the child was not started");
    EXPECT_EQ(rt.shape("caller"), "1 OrchestrationStarted, 2 SubOrchestrationScheduled, "
                                  "3 SubOrchestrationFailed<2, 4 OrchestrationCompleted");
    // The instance that had the id is untouched and still running.
    EXPECT_EQ(rt.shape("taken"), "1 OrchestrationStarted, 2 ExternalSubscribed");
    EXPECT_EQ(rt.instances.at("taken").current().status, "Running");
    EXPECT_EQ(rt.instances.at("taken").parent, std::nullopt);
}

TEST_F(ChildIds, TakenIdOfAFinishedInstanceFailsTheChildCall) {
    rt.start("done", "Leaf", "a");
    EXPECT_EQ(rt.finish("done").status, "Completed");
    rt.start("late", "Caller", "done");
    EXPECT_EQ(rt.finish("late").output,
              "failed:sub-orchestration instance id \"done\" is already in use by another "
              "instance: the child was not started");
    EXPECT_EQ(rt.shape("done"), "1 OrchestrationStarted, 2 OrchestrationCompleted");
}

TEST_F(ChildIds, TwoParentsRacingForOneIdTheSecondIsRefused) {
    // Both start messages reach "kid" in one batch: the first starts it, the second is told.
    rt.start("p1", "Caller", "kid");
    rt.start("p2", "Caller", "kid");
    const auto& p1 = rt.finish("p1");
    const auto& p2 = rt.finish("p2");
    const int ok = (p1.output == "ok:leaf:x") + (p2.output == "ok:leaf:x");
    EXPECT_EQ(ok, 1) << p1.output << " / " << p2.output;
    EXPECT_NE((p1.output + p2.output).find("is already in use"), std::string::npos);
}

} // namespace
