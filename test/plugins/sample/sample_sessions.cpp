// Explicit activity sessions in the sample plugin (test/tap/018_explicit_sessions.pl), and the
// worked example of the plugin guide ("Explicit sessions"): a per-session cache that the worker
// owning the session keeps in memory and rehydrates when the session comes to it without one.
#include "sample_sessions.hpp"

#include <duroxide/duroxide.hpp>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <unistd.h>

namespace {

using duroxide::ActivityContext;
using duroxide::DurableFuture;
using duroxide::OrchestrationContext;

// --- The plugin guide's example: a per-session cache that rehydrates.
// The expensive state of a conversation (here a map of facts), kept by the worker that owns
// the session. `rehydrations` counts how often it had to be rebuilt from the durable copy.
struct ConversationCache {
    bool loaded = false;
    int rehydrations = 0;
    std::map<std::string, std::string> facts;
};

// Input "key=value" remembers a fact, "key" recalls one. The durable copy of the facts lives
// in the orchestration (passed in `input` after '|', as "k1=v1;k2=v2"), so a worker that gets
// the session without a cache (first use, after a crash, a release or an idle timeout)
// rebuilds it from there; the output says whether it had to.
std::string remember(ActivityContext& ctx, const std::string& input) {
    auto& cache = ctx.session_state<ConversationCache>();
    const auto bar = input.find('|');
    const std::string request = input.substr(0, bar);
    if (!cache.loaded) {
        ++cache.rehydrations;
        const std::string durable = bar == std::string::npos ? "" : input.substr(bar + 1);
        for (std::size_t at = 0; at < durable.size();) {
            const auto end = std::min(durable.find(';', at), durable.size());
            const std::string pair = durable.substr(at, end - at);
            if (const auto eq = pair.find('='); eq != std::string::npos) {
                cache.facts[pair.substr(0, eq)] = pair.substr(eq + 1);
            }
            at = end + 1;
        }
        cache.loaded = true;
    }
    std::string answer;
    if (const auto eq = request.find('='); eq != std::string::npos) {
        cache.facts[request.substr(0, eq)] = request.substr(eq + 1);
        answer = "ok";
    } else {
        auto found = cache.facts.find(request);
        answer = found == cache.facts.end() ? "?" : found->second;
    }
    return answer + "|rehydrations=" + std::to_string(cache.rehydrations) + "|" + ctx.worker_id();
}

// A conversation: opens its session, sends each ';'-separated request of `input` to it (the
// durable copy of the facts goes along), closes the session and returns the answers.
std::string conversation(OrchestrationContext& ctx, const std::string& input) {
    const std::string session = ctx.open_session();
    std::string durable, answers;
    for (std::size_t at = 0; at < input.size();) {
        const auto end = std::min(input.find(';', at), input.size());
        const std::string request = input.substr(at, end - at);
        const std::string answer =
            ctx.schedule_activity_on_session("Remember", request + "|" + durable, session).value();
        if (request.find('=') != std::string::npos) {
            durable += (durable.empty() ? "" : ";") + request;
        }
        answers += (answers.empty() ? "" : "\n") + answer;
        at = end + 1;
    }
    ctx.close_session(session);
    return answers;
}

// --- Orchestrations of the end-to-end tests.

// "<session>:<visits>": opens the session, runs SessionVisit on it <visits> times, one turn
// each; with ":wait" waits for event "next" before each visit after the first and for
// "finish" before closing. Output: the visits' outputs, ';'-separated.
std::string explicit_series(OrchestrationContext& ctx, const std::string& input) {
    const auto first = input.find(':');
    const std::string session = ctx.open_session_with_id(input.substr(0, first));
    const auto second = input.find(':', first + 1);
    const int visits = std::stoi(input.substr(first + 1, second - first - 1));
    const bool wait = second != std::string::npos;
    std::string out;
    for (int i = 0; i < visits; ++i) {
        if (i > 0 && wait) {
            ctx.schedule_wait("next").get();
        }
        out += (out.empty() ? "" : ";") +
               ctx.schedule_activity_on_session("SessionVisit", "", session).value();
    }
    if (wait) {
        ctx.schedule_wait("finish").get();
    }
    ctx.close_session(session);
    return out;
}

// Opens session "held", starts a long activity on it ("SessionHold", input: ms), waits for
// event "close", closes the session without awaiting the activity, then runs one visit on a
// new session and returns its output.
std::string close_while_running(OrchestrationContext& ctx, const std::string& input) {
    ctx.open_session_with_id("held");
    ctx.schedule_activity_on_session(input.empty() ? "SessionHold" : input, "60000", "held");
    ctx.schedule_wait("close").get();
    ctx.close_session("held");
    const std::string after = ctx.open_session_with_id("after");
    return ctx.schedule_activity_on_session("SessionVisit", "", after).value();
}

// Runs until cancelled or for `input` ms; logs whether it saw the cancellation.
std::string session_hold(ActivityContext& ctx, const std::string& input) {
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stol(input));
    while (std::chrono::steady_clock::now() < until) {
        if (ctx.is_cancelled()) {
            ctx.trace_info("session activity cancelled on session " + *ctx.session_id());
            return "cancelled";
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "held to the end";
}

// Ignores cancellation for 3 s, then completes: a late completion, which the store discards.
std::string session_late(ActivityContext& ctx, const std::string&) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(3000);
    bool seen = false;
    while (std::chrono::steady_clock::now() < until) {
        seen = seen || ctx.is_cancelled();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ctx.trace_info(std::string("late session activity completes; cancelled=") +
                   (seen ? "yes" : "no"));
    return "late";
}

// "1": opens "carried", visits it and continues as new with "2"; "2": visits "carried"
// without reopening it, waits for event "finish", and completes. Output: both visits.
std::string session_carry(OrchestrationContext& ctx, const std::string& input) {
    if (input == "1") {
        ctx.open_session_with_id("carried");
        const std::string first =
            ctx.schedule_activity_on_session("SessionVisit", "", "carried").value();
        ctx.continue_as_new(first);
    }
    const std::string second =
        ctx.schedule_activity_on_session("SessionVisit", "", "carried").value();
    ctx.schedule_wait("finish").get();
    return input + ";" + second;
}

// "<cycles>:<every>": opens and closes <cycles> sessions, running one SessionVisit on every
// <every>th of them. Output: how many visits ran.
std::string session_churn(OrchestrationContext& ctx, const std::string& input) {
    const auto colon = input.find(':');
    const int cycles = std::stoi(input.substr(0, colon));
    const int every = std::stoi(input.substr(colon + 1));
    int visits = 0;
    for (int i = 0; i < cycles; ++i) {
        const std::string session = ctx.open_session_with_id("churn-" + std::to_string(i));
        if (i % every == 0) {
            ctx.schedule_activity_on_session("SessionVisit", "", session).get();
            ++visits;
        }
        ctx.close_session(session);
    }
    return std::to_string(visits);
}

// Schedules on a session it never opened after opening another: fails the orchestration.
std::string session_not_open(OrchestrationContext& ctx, const std::string&) {
    ctx.open_session_with_id("opened");
    return ctx.schedule_activity_on_session("SessionVisit", "", "not-opened").value();
}

// Opens `input` sessions at once, then closes them. Output: how many were open.
std::string session_many(OrchestrationContext& ctx, const std::string& input) {
    const int count = std::stoi(input);
    for (int i = 0; i < count; ++i) {
        ctx.open_session_with_id("many-" + std::to_string(i));
    }
    for (int i = 0; i < count; ++i) {
        ctx.close_session("many-" + std::to_string(i));
    }
    return std::to_string(count);
}

// "<session>:<ms>|<sql>": HeartbeatFor <ms> on the session; after event "second" (while it
// may still run), SqlValue <sql> on the same session. Output: both results, '|'-separated.
std::string pinned_pair(OrchestrationContext& ctx, const std::string& input) {
    const auto colon = input.find(':');
    const auto bar = input.find('|');
    const std::string session = input.substr(0, colon);
    const DurableFuture first = ctx.schedule_activity_on_session(
        "HeartbeatFor", input.substr(colon + 1, bar - colon - 1), session);
    ctx.schedule_wait("second").get();
    const DurableFuture second =
        ctx.schedule_activity_on_session("SqlValue", input.substr(bar + 1), session);
    return first.value() + "|" + second.value();
}

} // namespace

void register_session_samples(duroxide::PluginRegistrar& r) {
    auto& o = r.orchestrations();
    o.register_orchestration("Conversation", conversation);
    o.register_orchestration("ExplicitSeries", explicit_series);
    o.register_orchestration("CloseWhileRunning", close_while_running);
    o.register_orchestration("SessionCarry", session_carry);
    o.register_orchestration("SessionChurn", session_churn);
    o.register_orchestration("SessionNotOpen", session_not_open);
    o.register_orchestration("SessionMany", session_many);
    o.register_orchestration("PinnedPair", pinned_pair);
    auto& a = r.activities();
    a.register_activity("Remember", remember);
    a.register_activity("SessionHold", session_hold);
    a.register_activity("SessionLate", session_late);
}
