// Orchestrations and activities of the remote-worker tests and benchmark. The activities report
// the worker that ran them (ActivityContext::worker_id: "remote:<id>" on a remote worker), so
// that routing is asserted from results, never from timing.
#include <duroxide/activity_context.hpp>
#include <duroxide/orchestration_context.hpp>
#include <duroxide/plugin.hpp>
#include <duroxide/registry.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

using namespace duroxide;

namespace {

// "<count>|<activity>|<input>|<tag>[|<session>]": schedules `count` activities at once (on the
// session when one is given, one after the other then) and returns their results joined by ';'.
std::string remote_fan(OrchestrationContext& ctx, const std::string& input) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t bar = input.find('|', start);
        parts.push_back(input.substr(start, bar == std::string::npos ? bar : bar - start));
        if (bar == std::string::npos) {
            break;
        }
        start = bar + 1;
    }
    const int count = std::stoi(parts.at(0));
    const std::string& activity = parts.at(1);
    ActivityOptions options;
    if (parts.size() > 3 && !parts[3].empty()) {
        options.tag = parts[3];
    }
    if (parts.size() > 4 && !parts[4].empty()) {
        options.session_id = parts[4];
    }
    std::string out;
    if (options.session_id) {
        for (int i = 0; i < count; ++i) {
            out += (i ? ";" : "") + ctx.schedule_activity(activity, parts.at(2), options).value();
        }
        return out;
    }
    std::vector<DurableFuture> calls;
    for (int i = 0; i < count; ++i) {
        calls.push_back(ctx.schedule_activity(activity, parts.at(2), options));
    }
    int i = 0;
    for (const auto& outcome : ctx.join(calls)) {
        out += (i++ ? ";" : "") + outcome.value();
    }
    return out;
}

// Records its run in remote_effects (with its completion: exactly once per recorded
// completion), counts every attempt in remote_attempts (a sequence: never rolled back), then
// heartbeats for `input` milliseconds. Returns the worker's id.
std::string remote_work(ActivityContext& ctx, const std::string& input) {
    ctx.sql("SELECT nextval('remote_attempts')");
    ctx.sql("INSERT INTO remote_effects (instance_id, activity_id, worker) VALUES ($1, $2, $3)",
            ctx.instance_id(), ctx.activity_id(), ctx.worker_id());
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(input.empty() ? 0 : std::stoi(input));
    while (std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        ctx.heartbeat();
    }
    return ctx.worker_id();
}

// CPU-bound: `input` rounds of a xorshift; returns the worker id (the benchmark's work).
std::string remote_spin(ActivityContext& ctx, const std::string& input) {
    uint64_t x = 88172645463325252ULL;
    const long rounds = input.empty() ? 0 : std::stol(input);
    for (long i = 0; i < rounds; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return ctx.worker_id() + (x == 0 ? "!" : "");
}

// Session affinity: the worker id, and how many times this worker saw the session before.
struct Visits {
    int count = 0;
};
std::string remote_visit(ActivityContext& ctx, const std::string&) {
    Visits& visits = ctx.session_state<Visits>();
    return ctx.worker_id() + "#" + std::to_string(++visits.count);
}

void register_all(PluginRegistrar& r) {
    r.orchestrations().register_orchestration("RemoteFan", remote_fan);
    r.activities().register_activity("RemoteWork", remote_work);
    r.activities().register_activity("RemoteSpin", remote_spin);
    r.activities().register_activity("RemoteVisit", remote_visit);
}

} // namespace

DUROXIDE_PLUGIN(register_all)
