// duroxide's sample plugin: the reference scenarios as orchestrations, run by the demo and the
// end-to-end tests.
#include <duroxide/activity_context.hpp>
#include <duroxide/orchestration_context.hpp>
#include <duroxide/plugin.hpp>
#include <duroxide/registry.hpp>
#include <duroxide/version.hpp>

#include "sample_sessions.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using duroxide::ActivityContext;
using duroxide::DurableFuture;
using duroxide::OrchestrationContext;
using duroxide::Outcome;

namespace {

// Activities --------------------------------------------------------------------------------
std::string hello(ActivityContext&, const std::string& name) {
    return "Hello, " + name + "!";
}
std::string append_x(ActivityContext&, const std::string& acc) {
    return acc + "x";
}
std::string fail_with(ActivityContext&, const std::string& message) {
    throw std::runtime_error(message);
}
std::string upper(ActivityContext&, const std::string& text) {
    std::string out = text;
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}
// Fails twice, then succeeds, for an orchestration that calls it first: each retry is a new
// activity whose id comes after the failure and the backoff timer (events 2, 6, 10).
std::string fail_twice(ActivityContext& ctx, const std::string& input) {
    if (ctx.activity_id() < 10) {
        throw std::runtime_error("transient failure " + std::to_string(ctx.activity_id()));
    }
    return "ok:" + input;
}

// "<tag or untagged>@<worker index>": which worker ran it (the owner id ends in the index).
std::string where_am_i(ActivityContext& ctx, const std::string&) {
    const std::string& worker = ctx.worker_id();
    return ctx.tag().value_or("untagged") + "@" + worker.substr(worker.rfind('/') + 1);
}

// Session state of SessionVisit: how often this worker ran an activity of the session since it
// was pinned here.
struct Visits {
    int count = 0;
};
// "<worker id>|<pid>|<visit number>": which worker ran it, and whether its state survived.
std::string session_visit(ActivityContext& ctx, const std::string&) {
    const int visit = ++ctx.session_state<Visits>().count;
    ctx.trace_info("visit " + std::to_string(visit) + " of session " + *ctx.session_id());
    return ctx.worker_id() + "|" + std::to_string(getpid()) + "|" + std::to_string(visit);
}
// Fails on the first visit of its session to this worker, succeeds on the next.
std::string session_flaky(ActivityContext& ctx, const std::string&) {
    const int visit = ++ctx.session_state<Visits>().count;
    if (visit == 1) {
        throw std::runtime_error("first visit fails");
    }
    return ctx.worker_id() + "|" + std::to_string(getpid()) + "|" + std::to_string(visit);
}

// Activities using ctx.sql(), heartbeat() and is_cancelled() (test/tap/012_activity_sql.pl
// creates the tables they use). Their writes commit with their completion, or not at all.
// Inserts its input into sql_effects.
std::string record_effect(ActivityContext& ctx, const std::string& input) {
    const auto inserted =
        ctx.sql("INSERT INTO sql_effects (input) VALUES ($1) RETURNING input", input);
    return "recorded " + *inserted.rows[0][0] + " (" + std::to_string(inserted.affected) + ")";
}
// Inserts, survives an SQL error it catches, then fails: neither write may stand.
std::string record_then_fail(ActivityContext& ctx, const std::string& input) {
    ctx.sql("INSERT INTO sql_effects (input) VALUES ($1)", input);
    std::string sqlstate;
    try {
        ctx.sql("SELECT no_such_column FROM sql_effects");
    } catch (const duroxide::ActivitySqlError& e) {
        sqlstate = e.sqlstate(); // no ctx.sql() in a catch block: the fiber cannot suspend here
    }
    ctx.sql("INSERT INTO sql_effects (input) VALUES ($1)", input + " after " + sqlstate);
    throw std::runtime_error("failed after writing " + input + " twice");
}
// Counts its run (sql_runs, a sequence: not rolled back), inserts its input, then heartbeats
// until sql_go holds its input or it is cancelled.
std::string record_then_wait(ActivityContext& ctx, const std::string& input) {
    ctx.sql("SELECT nextval('sql_runs')");
    ctx.sql("INSERT INTO sql_effects (input) VALUES ($1)", input);
    while (!ctx.is_cancelled()) {
        if (!ctx.sql("SELECT 1 FROM sql_go WHERE input = $1", input).rows.empty()) {
            return "recorded " + input;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "cancelled";
}
// Heartbeats for the milliseconds of its input with no transaction open, then counts its run
// (long_runs, a sequence) and returns how many runs reached the end.
std::string heartbeat_for(ActivityContext& ctx, const std::string& input) {
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stol(input));
    while (std::chrono::steady_clock::now() < until) {
        if (ctx.is_cancelled()) {
            return "cancelled";
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "runs " + *ctx.sql("SELECT nextval('long_runs')").rows[0][0];
}
// The role its statements run as: the one that registered the plugin.
std::string who_am_i(ActivityContext& ctx, const std::string&) {
    return *ctx.sql("SELECT current_user::text").rows[0][0];
}
// Runs its input as a statement; returns the first value, or the affected row count.
std::string sql_value(ActivityContext& ctx, const std::string& statement) {
    const auto result = ctx.sql(statement);
    if (result.rows.empty() || result.rows[0].empty()) {
        return std::to_string(result.affected);
    }
    return result.rows[0][0].value_or("NULL");
}
// A SET lasts for its own statement only: returns the setting as the next statement sees it.
std::string set_then_show(ActivityContext& ctx, const std::string&) {
    ctx.sql("SET application_name = 'set by an activity'");
    return *ctx.sql("SELECT current_setting('application_name')").rows[0][0];
}
// Inserts, then heartbeats for up to a minute and never asks whether it was
// cancelled: past the grace period its next heartbeat unwinds it.
std::string ignore_cancellation(ActivityContext& ctx, const std::string& input) {
    ctx.sql("INSERT INTO sql_effects (input) VALUES ($1)", input);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < until) {
        ctx.heartbeat();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "ran to the end";
}

// Orchestrations ----------------------------------------------------------------------------
// Scenario 1: two sequential activities.
std::string hello_world(OrchestrationContext& ctx, const std::string& input) {
    ctx.schedule_activity("Hello", "Rust").value();
    return ctx.schedule_activity("Hello", input).value();
}

// Scenario 6: fan-out / fan-in over a comma-separated list.
std::string fan_out(OrchestrationContext& ctx, const std::string& input) {
    std::vector<DurableFuture> greetings;
    size_t start = 0;
    while (start <= input.size()) {
        size_t end = input.find(',', start);
        end = end == std::string::npos ? input.size() : end;
        greetings.push_back(ctx.schedule_activity("Hello", input.substr(start, end - start)));
        start = end + 1;
    }
    std::vector<std::string> results;
    for (const auto& outcome : ctx.join(greetings)) {
        results.push_back(outcome.value());
    }
    std::sort(results.begin(), results.end());
    std::string joined;
    for (const auto& r : results) {
        joined += (joined.empty() ? "" : ", ") + r;
    }
    return joined;
}

// Scenario 3: a loop of activities.
std::string loop(OrchestrationContext& ctx, const std::string& input) {
    std::string acc = input;
    for (int i = 0; i < 3; ++i) {
        acc = ctx.schedule_activity("Append", acc).value();
    }
    return acc;
}

// Scenario 7: a durable timer (input: milliseconds).
std::string timer(OrchestrationContext& ctx, const std::string& input) {
    ctx.schedule_timer(std::chrono::milliseconds(std::stoll(input.empty() ? "0" : input))).get();
    return "done";
}

// Scenario 9: an external event against a timeout.
std::string wait_for_go(OrchestrationContext& ctx, const std::string&) {
    std::vector<DurableFuture> race = {ctx.schedule_timer(std::chrono::seconds(60)),
                                       ctx.schedule_wait("Go")};
    return ctx.select(race) == 1 ? "event:" + race[1].value() : std::string("timeout");
}

// Scenarios 4 and 5: a failed activity, caught and compensated, or not.
std::string compensate(OrchestrationContext& ctx, const std::string&) {
    if (!ctx.schedule_activity("Fail", "boom").get().ok()) {
        return "recovered";
    }
    return "unexpected";
}
std::string unhandled(OrchestrationContext& ctx, const std::string& input) {
    return ctx.schedule_activity("Fail", input).value();
}

// Calls any activity by name: "ActivityName:input" (used with SQL activities).
std::string call_activity(OrchestrationContext& ctx, const std::string& input) {
    const size_t colon = input.find(':');
    return ctx.schedule_activity(input.substr(0, colon), input.substr(colon + 1)).value();
}

// Graceful cancellation, as in the plugin guide: "charge", then wait for "Ship" or a
// cancellation request; on a request, "refund" and end cancelled.
std::string cancellable_order(OrchestrationContext& ctx, const std::string& order) {
    const DurableFuture cancel = ctx.cancellation_requested(); // opts in
    const std::string charge = ctx.schedule_activity("Append", order).value();
    const DurableFuture race[] = {ctx.schedule_wait("Ship"), cancel};
    if (ctx.select(race) == 1) {
        ctx.schedule_activity("Hello", "refund " + charge).value(); // compensate
        throw duroxide::OrchestrationCancelled(cancel.value());
    }
    return "shipped " + charge;
}
// Opts in to graceful cancellation but never looks again: forced when the grace period ends.
std::string ignores_cancellation(OrchestrationContext& ctx, const std::string&) {
    ctx.cancellation_requested();
    return ctx.schedule_wait("Never").value();
}
// A retry whose backoff is an hour: after the first failure it waits on the backoff timer
// (duroxide.pending_work shows it with the activity and the next attempt).
std::string slow_retry(OrchestrationContext& ctx, const std::string& input) {
    duroxide::RetryPolicy policy(3);
    policy.with_backoff(duroxide::FixedBackoff{std::chrono::hours(1)});
    return ctx.schedule_activity_with_retry("Fail", input, policy).value();
}
// A child that calls an activity by name (CallActivity): rewinding the parent rewinds it.
std::string parent_call(OrchestrationContext& ctx, const std::string& input) {
    return "parent:" + ctx.schedule_sub_orchestration("CallActivity", input).value();
}

// Calls an activity on a session: "session:ActivityName:input".
std::string call_on_session(OrchestrationContext& ctx, const std::string& input) {
    const size_t first = input.find(':');
    const size_t second = input.find(':', first + 1);
    return ctx
        .schedule_activity_on_session(input.substr(first + 1, second - first - 1),
                                      input.substr(second + 1), input.substr(0, first))
        .value();
}

// Scenario 18: custom status.
std::string with_status(OrchestrationContext& ctx, const std::string&) {
    ctx.set_custom_status("step-1");
    ctx.schedule_activity("Hello", "status").value();
    ctx.set_custom_status("step-2");
    return ctx.get_custom_status().value_or("");
}

// Progress a client can follow with wait_for_status_change: one status per step.
std::string status_steps(OrchestrationContext& ctx, const std::string&) {
    ctx.set_custom_status("waiting for Go");
    const std::string data = ctx.schedule_wait("Go").value();
    ctx.set_custom_status("got " + data);
    ctx.schedule_activity("Hello", data).value();
    return "done " + data;
}

// Scenario 12: a sub-orchestration (its child uppercases with an activity).
std::string child_upper(OrchestrationContext& ctx, const std::string& input) {
    return ctx.schedule_activity("Upper", input).value();
}
std::string parent(OrchestrationContext& ctx, const std::string& input) {
    return "parent:" + ctx.schedule_sub_orchestration("ChildUpper", input).value();
}
// Two children in parallel.
std::string parent_fan(OrchestrationContext& ctx, const std::string& input) {
    std::vector<DurableFuture> children = {
        ctx.schedule_sub_orchestration("ChildUpper", input),
        ctx.schedule_sub_orchestration("ChildUpper", input + "!")};
    std::string out;
    for (const auto& outcome : ctx.join(children)) {
        out += (out.empty() ? "" : "+") + outcome.value();
    }
    return out;
}

// Scenario 13: detached orchestrations, independent of their starter.
std::string coordinator(OrchestrationContext& ctx, const std::string& input) {
    ctx.schedule_orchestration("ChildUpper", input + "-W1", "a");
    ctx.schedule_orchestration("ChildUpper", input + "-W2", "b");
    return "scheduled";
}

// Scenario 16: a parent whose child waits for an event; cancelling the parent cancels both.
std::string parent_of_waiter(OrchestrationContext& ctx, const std::string&) {
    return ctx.schedule_sub_orchestration("WaitForGo", "").value();
}

// Scenario 11: messages sent before the orchestration asks for them wait in its mailbox.
std::string mailbox(OrchestrationContext& ctx, const std::string&) {
    ctx.schedule_timer(std::chrono::milliseconds(200)).get();
    const std::string first = ctx.dequeue_event("Signal").value();
    const std::string second = ctx.dequeue_event("Signal").value();
    return "got:" + first + "," + second;
}

// Scenario 17: an activity that fails twice, retried with backoff.
std::string retrying(OrchestrationContext& ctx, const std::string& input) {
    duroxide::RetryPolicy policy(3);
    policy.with_backoff(duroxide::FixedBackoff{std::chrono::milliseconds(20)});
    return ctx.schedule_activity_with_retry("FailTwice", input, policy).value();
}

// Scenario 14: continue-as-new until the counter reaches 3.
std::string counter(OrchestrationContext& ctx, const std::string& input) {
    const int n = std::stoi(input);
    if (n < 3) {
        ctx.continue_as_new(std::to_string(n + 1));
    }
    return "final:" + input;
}

// Continue-as-new n times (input n), then wait for event "Go": a running instance with old
// executions (management: prune_executions_bulk includes running instances).
std::string countdown_then_wait(OrchestrationContext& ctx, const std::string& input) {
    const int n = std::stoi(input);
    if (n > 0) {
        ctx.continue_as_new(std::to_string(n - 1));
    }
    return "go:" + ctx.schedule_wait("Go").value();
}

// Sessions: "<session>:<n>": n visits in a row; between two visits the orchestration waits for
// event "next" when the input ends in ":wait". The outputs joined with ";".
std::string session_series(OrchestrationContext& ctx, const std::string& input) {
    const auto first = input.find(':');
    const std::string session = input.substr(0, first);
    const auto second = input.find(':', first + 1);
    const int visits = std::stoi(input.substr(first + 1, second - first - 1));
    const bool wait = second != std::string::npos && input.substr(second + 1) == "wait";
    ctx.trace_info("series of " + std::to_string(visits) + " on session " + session);
    std::string out;
    for (int i = 0; i < visits; ++i) {
        if (i > 0 && wait) {
            ctx.schedule_wait("next").get();
        }
        out +=
            (i ? ";" : "") + ctx.schedule_activity_on_session("SessionVisit", "", session).value();
    }
    return out;
}
// "<s1>,<s2>,...:<k>": k visits to each session at once; outputs joined with ";" in order.
std::string session_fan_out(OrchestrationContext& ctx, const std::string& input) {
    const auto colon = input.find(':');
    const int per_session = std::stoi(input.substr(colon + 1));
    std::vector<DurableFuture> visits;
    std::string list = input.substr(0, colon);
    size_t start = 0;
    while (start <= list.size()) {
        size_t end = list.find(',', start);
        end = end == std::string::npos ? list.size() : end;
        for (int i = 0; i < per_session; ++i) {
            visits.push_back(ctx.schedule_activity_on_session("SessionVisit", "",
                                                              list.substr(start, end - start)));
        }
        start = end + 1;
    }
    std::string out;
    for (const auto& outcome : ctx.join(visits)) {
        out += (out.empty() ? "" : ";") + outcome.value();
    }
    return out;
}
// "<session>:<executions>[:<outputs so far>]": one visit per execution, continue-as-new between.
std::string session_continue(OrchestrationContext& ctx, const std::string& input) {
    const auto first = input.find(':');
    const auto second = input.find(':', first + 1);
    const std::string session = input.substr(0, first);
    const int left = std::stoi(input.substr(first + 1, second - first - 1));
    const std::string so_far = second == std::string::npos ? "" : input.substr(second + 1);
    const std::string visit = ctx.schedule_activity_on_session("SessionVisit", "", session).value();
    const std::string outputs = so_far.empty() ? visit : so_far + ";" + visit;
    if (left > 1) {
        ctx.continue_as_new(session + ":" + std::to_string(left - 1) + ":" + outputs);
    }
    return outputs;
}
// A flaky activity retried on one session: the retry finds the state the failure left.
std::string session_retry(OrchestrationContext& ctx, const std::string& session) {
    duroxide::RetryPolicy policy(3);
    policy.with_backoff(duroxide::FixedBackoff{std::chrono::milliseconds(10)});
    return ctx.schedule_activity_with_retry_on_session("SessionFlaky", "", policy, session).value();
}
// Session and plain activities side by side.
std::string session_mixed(OrchestrationContext& ctx, const std::string& session) {
    const DurableFuture calls[] = {ctx.schedule_activity_on_session("SessionVisit", "", session),
                                   ctx.schedule_activity("Hello", "plain"),
                                   ctx.schedule_activity_on_session("SessionVisit", "", session)};
    std::string out;
    for (const auto& outcome : ctx.join(calls)) {
        out += (out.empty() ? "" : ";") + outcome.value();
    }
    return out;
}

// Scenario 24: "<tag>|<timeout ms>" (an empty tag: untagged). The activity races a timer, as
// a tagged activity waits for ever while no worker admits its tag. Output: the activity's
// "<tag>@<worker index>", or "timeout".
std::string tag_route(OrchestrationContext& ctx, const std::string& input) {
    const auto bar = input.find('|');
    const std::string tag = input.substr(0, bar);
    const DurableFuture race[] = {
        tag.empty() ? ctx.schedule_activity("WhereAmI", "")
                    : ctx.schedule_activity_with_tag("WhereAmI", "", tag),
        ctx.schedule_timer(std::chrono::milliseconds(std::stoll(input.substr(bar + 1))))};
    return ctx.select(race) == 0 ? race[0].value() : std::string("timeout");
}
// FailTwice retried with a tag: every attempt carries it.
std::string tag_retry(OrchestrationContext& ctx, const std::string& tag) {
    duroxide::RetryPolicy policy(3);
    policy.with_backoff(duroxide::FixedBackoff{std::chrono::milliseconds(10)});
    return ctx.schedule_activity_with_retry("FailTwice", "t", policy, {std::nullopt, tag}).value();
}

std::string versioned_v1(OrchestrationContext&, const std::string&) {
    return "v1";
}
std::string versioned_v2(OrchestrationContext&, const std::string&) {
    return "v2";
}

// Durable key-value store (scenario 19) --------------------------------------------------------
std::string increment(ActivityContext&, const std::string& number) {
    return std::to_string(std::stoll(number) + 1);
}
// Request/response: answers "requests" queue messages (upper-cased by an activity) under keys
// "response:<n>" that clients read while it waits for the next one; "status" says where it is.
// "scratch" lives until the first answer.
std::string kv_request_response(OrchestrationContext& ctx, const std::string& count) {
    ctx.set_kv_value("scratch", "1");
    const int requests = std::stoi(count);
    for (int n = 1; n <= requests; ++n) {
        ctx.set_kv_value("status", "waiting for request " + std::to_string(n));
        const std::string request = ctx.dequeue_event("requests").value();
        const std::string answer = ctx.schedule_activity("Upper", request).value();
        ctx.set_kv_value("response:" + std::to_string(n), answer);
        ctx.clear_kv_value("scratch");
    }
    ctx.set_kv_value("status", "done");
    return "answered " + std::to_string(ctx.get_kv_length() - 1);
}
// Read-modify-write: "<rounds>:<executions>": each execution adds 1 to "counter" <rounds> times
// through an activity, then continues as new; the store survives each continue-as-new. The
// first execution writes "first", the second clears it.
std::string kv_counter(OrchestrationContext& ctx, const std::string& input) {
    const auto colon = input.find(':');
    const int rounds = std::stoi(input.substr(0, colon));
    const int left = std::stoi(input.substr(colon + 1));
    if (ctx.execution_id() == 1) {
        ctx.set_kv_value("first", "from execution 1");
    } else if (ctx.execution_id() == 2) {
        ctx.clear_kv_value("first");
    }
    for (int i = 0; i < rounds; ++i) {
        const std::string value = ctx.get_kv_value("counter").value_or("0");
        ctx.set_kv_value("counter", ctx.schedule_activity("Increment", value).value());
    }
    if (left > 1) {
        ctx.continue_as_new(std::to_string(rounds) + ":" + std::to_string(left - 1));
    }
    return "counter=" + ctx.get_kv_value("counter").value_or("-") +
           " first=" + ctx.get_kv_value("first").value_or("-");
}
// Execution 1 writes a and b; execution 2 clears everything, writes c, waits for "Finish" and
// returns what it holds.
std::string kv_reset(OrchestrationContext& ctx, const std::string&) {
    if (ctx.execution_id() == 1) {
        ctx.set_kv_value("a", "1");
        ctx.set_kv_value("b", "2");
        ctx.continue_as_new("");
    }
    ctx.clear_all_kv_values();
    ctx.set_kv_value("c", "3");
    ctx.schedule_wait("Finish").value();
    std::string out;
    for (const auto& [key, value] : ctx.get_kv_all_values()) {
        out += (out.empty() ? "" : ",") + key + "=" + value;
    }
    return out;
}
// The system calls: a UUID, the clock, and "counter" of instance <input> (and a missing key).
std::string kv_system_calls(OrchestrationContext& ctx, const std::string& other) {
    const std::string guid = ctx.new_guid().value();
    const auto now = duroxide::utc_time_point(ctx.utc_now().value());
    const auto counter =
        duroxide::kv_lookup_value(ctx.get_kv_value_from_instance(other, "counter").value());
    const auto missing =
        duroxide::kv_lookup_value(ctx.get_kv_value_from_instance(other, "no such key").value());
    ctx.set_kv_value("guid", guid);
    const bool guid_ok = guid.size() == 36 && guid[8] == '-' && guid[14] == '4';
    const bool clock_ok =
        now > std::chrono::system_clock::time_point(std::chrono::hours(24 * 365 * 50));
    return std::string("guid ") + (guid_ok ? "v4" : "bad:" + guid) + ", clock " +
           (clock_ok ? "ok" : "bad") + ", counter " + counter.value_or("null") + ", missing " +
           missing.value_or("null");
}
// Execution 1 writes "carried" and continues as new; execution 2 says it waits ("waiting"),
// waits for "Go" and returns what it found: its replay must start from kv_store's snapshot.
std::string kv_carry(OrchestrationContext& ctx, const std::string&) {
    if (ctx.execution_id() == 1) {
        ctx.set_kv_value("carried", "from 1");
        ctx.continue_as_new("");
    }
    ctx.set_kv_value("waiting", "yes");
    ctx.schedule_wait("Go").value();
    return "carried=" + ctx.get_kv_value("carried").value_or("-") +
           " keys=" + std::to_string(ctx.get_kv_length());
}
// Writes a value one byte over the limit: the orchestration fails.
std::string kv_too_big(OrchestrationContext& ctx, const std::string&) {
    ctx.set_kv_value("big", std::string(OrchestrationContext::kMaxKvValueBytes + 1, 'x'));
    return "not reached";
}

// Cancellation and continue-as-new carry-forward (engine features) ------------------------
// An activity that takes a while (800 ms): long enough to lose a race against a short timer.
// (sleep_for, not usleep: a signal to the worker, such as a cache invalidation catch-up
// after DDL, ends usleep early, and the activity would win the race.)
std::string long_op(ActivityContext&, const std::string&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    return "long op done";
}
// Scenario 8: a long activity races a 100 ms timer; the timer wins and the activity, the
// loser, is cancelled (ActivityCancelRequested "dropped_future", its worker row deleted).
std::string timeout_race(OrchestrationContext& ctx, const std::string&) {
    const DurableFuture race[] = {ctx.schedule_activity("LongOp", ""),
                                  ctx.schedule_timer(std::chrono::milliseconds(100))};
    if (ctx.select(race) == 1) {
        throw std::runtime_error("timeout");
    }
    return race[0].value();
}
// Continue-as-new keeps the mailbox and the custom status: execution 1 (input "first") waits
// 200 ms, takes one message and continues; execution 2 takes two more, which were sent to
// execution 1 and carried over.
std::string mailbox_carry(OrchestrationContext& ctx, const std::string& input) {
    if (input == "first") {
        ctx.schedule_timer(std::chrono::milliseconds(200)).get();
        const std::string taken = ctx.dequeue_event("Signal").value();
        ctx.set_custom_status("took " + taken);
        ctx.continue_as_new("second");
    }
    const std::string a = ctx.dequeue_event("Signal").value();
    const std::string b = ctx.dequeue_event("Signal").value();
    return "got:" + a + "," + b + " after " + ctx.get_custom_status().value_or("(no status)");
}

void register_engine_samples(duroxide::PluginRegistrar& r) {
    r.orchestrations().register_orchestration("TimeoutRace", timeout_race);
    r.orchestrations().register_orchestration("MailboxCarry", mailbox_carry);
    r.activities().register_activity("LongOp", long_op);
}

// Reference scenarios 2, 10, 12 (chain), 15 (upgrade at continue-as-new), 17 (exhaustion,
// timeout), 18 (limit) and 22, run by sql/e2e_scenarios.sql ---------------------------------
std::string get_flag(ActivityContext&, const std::string& input) {
    return input;
}
std::string say_yes(ActivityContext&, const std::string&) {
    return "picked_yes";
}
std::string say_no(ActivityContext&, const std::string&) {
    return "picked_no";
}
// Scenario 2: the next activity depends on the previous one's output.
std::string branch(OrchestrationContext& ctx, const std::string& input) {
    const std::string flag = ctx.schedule_activity("GetFlag", input).value();
    return ctx.schedule_activity(flag == "yes" ? "SayYes" : "SayNo", "").value();
}
// Scenario 10: an event raised before its wait is recorded is not delivered to the wait (the
// client raises "Evt" during the first timer).
std::string early_event(OrchestrationContext& ctx, const std::string&) {
    ctx.schedule_timer(std::chrono::milliseconds(300)).get();
    const DurableFuture race[] = {ctx.schedule_wait("Evt"),
                                  ctx.schedule_timer(std::chrono::milliseconds(500))};
    return ctx.select(race) == 0 ? "event:" + race[0].value() : std::string("early-event-dropped");
}
// Scenario 15: 1.0.0 continues as new; the next execution runs the newest version, 2.0.0. (If it
// ran 1.0.0 again, it would stop and say so rather than loop.)
std::string upgrade_v1(OrchestrationContext& ctx, const std::string& input) {
    if (input.rfind("v1:", 0) != 0) {
        ctx.continue_as_new("v1:" + input);
    }
    return "not upgraded:" + input;
}
std::string upgrade_v2(OrchestrationContext&, const std::string& input) {
    return "upgraded:" + input;
}
// Scenario 17: every attempt fails (input: the error) ...
std::string retry_exhausted(OrchestrationContext& ctx, const std::string& input) {
    duroxide::RetryPolicy policy(3);
    policy.with_backoff(duroxide::FixedBackoff{std::chrono::milliseconds(20)});
    return ctx.schedule_activity_with_retry("Fail", input, policy).value();
}
// ... or the first attempt (HeartbeatFor <input> ms, long) outlives its 100 ms timeout, which
// ends the retries (the activity is cancelled when the orchestration ends).
std::string retry_timeout(OrchestrationContext& ctx, const std::string& input) {
    duroxide::RetryPolicy policy(3);
    policy.with_timeout(std::chrono::milliseconds(100));
    return ctx.schedule_activity_with_retry("HeartbeatFor", input, policy).value();
}
// Scenario 18: a custom status over 256 KiB fails the orchestration.
std::string status_too_big(OrchestrationContext& ctx, const std::string&) {
    ctx.set_custom_status(std::string(256 * 1024 + 1, 's'));
    ctx.schedule_activity("Hello", "recorded, never run").value();
    return "not reached";
}
// Issue 18: a child ChildUpper with the id given as input; says how the call ended.
std::string named_child(OrchestrationContext& ctx, const std::string& input) {
    const Outcome outcome =
        ctx.schedule_sub_orchestration("ChildUpper", "x", std::string_view(input), std::nullopt)
            .get();
    return outcome.ok() ? "ok:" + outcome.value() : "failed:" + outcome.error();
}
// Scenario 22: as if the code changed between two turns, a replay schedules another activity
// than history records (run with duroxide.resident_cache_size = 0, so the second turn replays).
std::string code_swap(OrchestrationContext& ctx, const std::string&) {
    return (ctx.is_replaying() ? ctx.schedule_activity("Upper", "bar")
                               : ctx.schedule_activity("Hello", "foo"))
        .value();
}

// A turn that takes 200 ms of orchestration code (a stand-in for a long replay; real code
// must not sleep): a batch of them outlasts a short duroxide.orchestration_lock_timeout.
std::string slow_turn(OrchestrationContext&, const std::string& input) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return "slow:" + input;
}

// Scenario 12's chain: root -> mid -> leaf; "a" gives "root:ax-mid".
std::string chain_leaf(OrchestrationContext& ctx, const std::string& input) {
    return ctx.schedule_activity("Append", input).value();
}
std::string chain_mid(OrchestrationContext& ctx, const std::string& input) {
    return ctx.schedule_sub_orchestration("ChainLeaf", input).value() + "-mid";
}
std::string chain_root(OrchestrationContext& ctx, const std::string& input) {
    return "root:" + ctx.schedule_sub_orchestration("ChainMid", input).value();
}

// Issue 21 (first turns in the creating transaction): a child whose code fails in its first
// turn, and a parent that says how its call ended.
std::string throws_at_once(OrchestrationContext&, const std::string& input) {
    throw std::runtime_error("child code failed on " + input);
}
std::string parent_of_thrower(OrchestrationContext& ctx, const std::string& input) {
    const Outcome outcome = ctx.schedule_sub_orchestration("ThrowsAtOnce", input).get();
    return outcome.ok() ? "ok:" + outcome.value() : "failed:" + outcome.error();
}

void register_scenario_samples(duroxide::PluginRegistrar& r) {
    auto& o = r.orchestrations();
    o.register_orchestration("ChainRoot", chain_root);
    o.register_orchestration("ChainMid", chain_mid);
    o.register_orchestration("ChainLeaf", chain_leaf);
    o.register_orchestration("SlowTurn", slow_turn);
    o.register_orchestration("Branch", branch);
    o.register_orchestration("EarlyEvent", early_event);
    o.register_orchestration("Upgrade", upgrade_v1);
    o.register_versioned("Upgrade", "2.0.0", upgrade_v2);
    o.register_orchestration("RetryExhausted", retry_exhausted);
    o.register_orchestration("RetryTimeout", retry_timeout);
    o.register_orchestration("StatusTooBig", status_too_big);
    o.register_orchestration("CodeSwap", code_swap);
    o.register_orchestration("NamedChild", named_child);
    o.register_orchestration("ThrowsAtOnce", throws_at_once);
    o.register_orchestration("ParentOfThrower", parent_of_thrower);
    auto& a = r.activities();
    a.register_activity("GetFlag", get_flag);
    a.register_activity("SayYes", say_yes);
    a.register_activity("SayNo", say_no);
}

void register_all(duroxide::PluginRegistrar& r) {
    auto& o = r.orchestrations();
    o.register_orchestration("HelloWorld", hello_world);
    o.register_orchestration("FanOut", fan_out);
    o.register_orchestration("Loop", loop);
    o.register_orchestration("Timer", timer);
    o.register_orchestration("WaitForGo", wait_for_go);
    o.register_orchestration("Compensate", compensate);
    o.register_orchestration("Unhandled", unhandled);
    o.register_orchestration("CallActivity", call_activity);
    o.register_orchestration("CancellableOrder", cancellable_order);
    o.register_orchestration("IgnoresCancellation", ignores_cancellation);
    o.register_orchestration("ParentCall", parent_call);
    o.register_orchestration("SlowRetry", slow_retry);
    o.register_orchestration("WithStatus", with_status);
    o.register_orchestration("StatusSteps", status_steps);
    o.register_orchestration("ChildUpper", child_upper);
    o.register_orchestration("Parent", parent);
    o.register_orchestration("ParentFan", parent_fan);
    o.register_orchestration("Coordinator", coordinator);
    o.register_orchestration("ParentOfWaiter", parent_of_waiter);
    o.register_orchestration("Mailbox", mailbox);
    o.register_orchestration("Retrying", retrying);
    o.register_orchestration("Counter", counter);
    o.register_orchestration("CountdownThenWait", countdown_then_wait);
    o.register_orchestration("Versioned", versioned_v1);
    o.register_versioned("Versioned", "2.0.0", versioned_v2);
    o.register_orchestration("SessionSeries", session_series);
    o.register_orchestration("CallOnSession", call_on_session);
    o.register_orchestration("SessionFanOut", session_fan_out);
    o.register_orchestration("SessionContinue", session_continue);
    o.register_orchestration("SessionRetry", session_retry);
    o.register_orchestration("SessionMixed", session_mixed);
    o.register_orchestration("TagRoute", tag_route);
    o.register_orchestration("TagRetry", tag_retry);
    auto& a = r.activities();
    o.register_orchestration("KvRequestResponse", kv_request_response);
    o.register_orchestration("KvCounter", kv_counter);
    o.register_orchestration("KvReset", kv_reset);
    o.register_orchestration("KvSystemCalls", kv_system_calls);
    o.register_orchestration("KvTooBig", kv_too_big);
    o.register_orchestration("KvCarry", kv_carry);
    a.register_activity("Increment", increment);
    a.register_activity("Hello", hello);
    a.register_activity("Append", append_x);
    a.register_activity("Fail", fail_with);
    a.register_activity("Upper", upper);
    a.register_activity("FailTwice", fail_twice);
    a.register_activity("SessionVisit", session_visit);
    a.register_activity("SessionFlaky", session_flaky);
    a.register_activity("WhereAmI", where_am_i);
    register_engine_samples(r);
    register_scenario_samples(r);
    register_session_samples(r);
    a.register_activity("RecordEffect", record_effect);
    a.register_activity("RecordThenFail", record_then_fail);
    a.register_activity("RecordThenWait", record_then_wait);
    a.register_activity("HeartbeatFor", heartbeat_for);
    a.register_activity("IgnoreCancellation", ignore_cancellation);
    a.register_activity("WhoAmI", who_am_i);
    a.register_activity("SetThenShow", set_then_show);
    a.register_activity("SqlValue", sql_value);
}

} // namespace

DUROXIDE_PLUGIN(register_all)
