// Running a plugin activity on a fiber with this worker as its host (core/engine/
// activity_fiber.hpp): the activity's ctx.sql() statements run here, on the main stack, as
// the role that registered the plugin, in a transaction opened at its first statement that
// also records its completion; its lease is renewed at its suspension points.
#pragma once

#include "core/engine/activity_runner.hpp"
#include "core/provider/provider.hpp"
#include "store/store.hpp"

#include <functional>
#include <optional>

namespace duroxide::runtime {

class InlineTurns;
class SessionKeeper;

struct PluginActivityOutcome {
    // The completion left to record with the worker's batch (the activity ran no statement,
    // or failed and its statements were rolled back).
    std::optional<core::WorkItem> to_record;
    // The completion already committed here with its statements' writes.
    std::optional<core::WorkItem> recorded;
    // Neither: the activity was cancelled or lost its lease (nothing recorded), or the worker
    // failed and gave the activity back.
};

// `sessions` renews the worker's session leases while the activity runs (the session upkeep
// cannot run meanwhile). `record_held` records the completions the worker holds unrecorded; it is
// called (with no transaction open) at the activity's first suspension point, so that an activity
// that runs long does not let their leases run out.
// A failure of the worker around the activity gives it back through `provider`.
// `inline_turns`: the transaction that records the completion with the activity's statements
// runs the instance's next turn too (runtime/activity/inline_turns.hpp).
PluginActivityOutcome
run_plugin_activity(core::provider::ActivityProvider& provider, const ActivityFn& handler,
                    const store::FetchedActivity& fetched, const store::SessionOwner& session_owner,
                    SessionKeeper& sessions, const core::ActivityEnvironment& environment,
                    const std::function<void()>& record_held, InlineTurns& inline_turns);

} // namespace duroxide::runtime
