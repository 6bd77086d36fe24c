// What orchestration code sees. Orchestration code is an ordinary function
//   std::string my_orchestration(duroxide::OrchestrationContext& ctx, const std::string& input)
// that schedules durable work through ctx and waits for it with DurableFuture::get(). It runs
// on a fiber and is replayed from history, so it must be deterministic: no clocks, randomness,
// I/O or threads of its own; everything with a side effect is an activity. Throwing fails the
// orchestration with the exception's message.
#pragma once

#include "duroxide/retry_policy.hpp"
#include "duroxide/trace.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace duroxide {

// The result of durable work: a value, or the error message of an application failure.
class Outcome {
public:
    static Outcome success(std::string value) { return Outcome(true, std::move(value)); }
    static Outcome failure(std::string message) { return Outcome(false, std::move(message)); }
    bool ok() const { return ok_; }
    // The value; throws TaskFailed with the error message when the work failed.
    const std::string& value() const;
    const std::string& error() const { return text_; }

private:
    Outcome(bool ok, std::string content) : ok_(ok), text_(std::move(content)) {}
    bool ok_;
    std::string text_;
};

// A failure whose message starts with this is not retried by schedule_activity_with_retry: an
// SQL activity gets it by raising SQLSTATE DX001; a plugin activity by failing with a message
// that starts with it.
inline constexpr std::string_view kNonRetryablePrefix = "non-retryable: ";
inline bool is_non_retryable(const Outcome& outcome) {
    return !outcome.ok() && outcome.error().starts_with(kNonRetryablePrefix);
}

// Thrown by Outcome::value() for failed work; uncaught, it fails the orchestration.
class TaskFailed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline const std::string& Outcome::value() const {
    if (!ok_) {
        throw TaskFailed(text_);
    }
    return text_;
}

// Thrown by orchestration code to end its execution as cancelled (the status a forced
// duroxide.cancel_instance leaves: Failed, error kind Cancelled, "canceled: <reason>"), e.g.
// after compensating for a cancellation request (OrchestrationContext::cancellation_requested).
class OrchestrationCancelled : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class OrchestrationContext;

// Where a scheduled activity may run. Both are recorded in its ActivityScheduled event and
// take part in the replay match, so code must pass the same options on every replay.
struct ActivityOptions {
    // Pins the activity to the activity worker that owns this session.
    std::optional<std::string> session_id;
    // Only activity workers whose tag filter admits this tag run the activity (1 to 256 bytes
    // without blanks, ',', ';' or '='; any other tag fails the orchestration). Without one,
    // workers with the default filter run it. See duroxide.worker_tag_filter.
    std::optional<std::string> tag;
};

// A handle on scheduled durable work (activity, timer, event wait). Handles are copyable and
// their destruction does nothing: work that the code abandons is cancelled explicitly, with
// cancel(), or by select(), which cancels the futures that lose.
class DurableFuture {
public:
    DurableFuture() = default;
    DurableFuture(OrchestrationContext* context, std::uint64_t id) : context_(context), id_(id) {}
    // Suspends the orchestration until the work completes.
    Outcome get() const;
    // get().value(): the result, or TaskFailed.
    std::string value() const { return get().value(); }
    bool ready() const;
    // Abandons the work if it has not completed (a no-op otherwise, and for a timer): an
    // activity is withdrawn from the worker queue, a sub-orchestration is cancelled, a wait
    // or dequeue no longer takes an event or message. Awaiting it afterwards fails.
    void cancel() const;
    std::uint64_t id() const { return id_; }

private:
    OrchestrationContext* context_ = nullptr;
    std::uint64_t id_ = 0;
};

class OrchestrationContext {
public:
    virtual ~OrchestrationContext() = default;

    virtual const std::string& instance_id() const = 0;
    virtual std::uint64_t execution_id() const = 0;
    virtual const std::string& orchestration_name() const = 0;
    virtual const std::string& orchestration_version() const = 0;
    // True while the code re-executes what history already records.
    virtual bool is_replaying() const = 0;

    DurableFuture schedule_activity(std::string_view name, std::string_view input) {
        return schedule_activity_on(name, input, std::nullopt);
    }
    // The same, pinned to session `session_id`: every activity of a session runs on the
    // activity worker that owns it (claimed by the first fetch; see the user guide).
    DurableFuture schedule_activity_on_session(std::string_view name, std::string_view input,
                                               std::string_view session_id) {
        return schedule_activity_on(name, input, session_id);
    }
    virtual DurableFuture schedule_activity_on(std::string_view name, std::string_view input,
                                               std::optional<std::string_view> session_id) = 0;
    // The same with a tag: the activity runs only on workers whose tag filter admits `tag`.
    // Nothing runs it while no such worker exists, so race it with a timer (select) when the
    // orchestration must not wait forever.
    DurableFuture schedule_activity_with_tag(std::string_view name, std::string_view input,
                                             std::string_view tag) {
        return schedule_activity(name, input, ActivityOptions{std::nullopt, std::string(tag)});
    }
    // Schedules an activity with a session and/or a tag. (A tag is given here rather than set
    // on the returned future: the schedule call is matched against history at once.)
    virtual DurableFuture schedule_activity(std::string_view name, std::string_view input,
                                            const ActivityOptions& options) = 0;
    virtual DurableFuture schedule_timer(std::chrono::milliseconds delay) = 0;
    // Waits for the next event `name` raised after this wait is recorded (positional).
    virtual DurableFuture schedule_wait(std::string_view name) = 0;

    // A child orchestration: its output completes the future (its failure fails it). The
    // child's instance id is "<this instance>::sub::<event id>" unless `instance` is given;
    // without `version` the newest registered version runs. Cancelling this orchestration
    // cancels its running children.
    virtual DurableFuture
    schedule_sub_orchestration(std::string_view name, std::string_view input,
                               std::optional<std::string_view> instance = std::nullopt,
                               std::optional<std::string_view> version = std::nullopt) = 0;
    // Starts an independent orchestration `instance` (fire and forget; a no-op if it exists).
    virtual void schedule_orchestration(std::string_view name, std::string_view instance,
                                        std::string_view input,
                                        std::optional<std::string_view> version = std::nullopt) = 0;
    // Takes the next message of queue `name` (duroxide.enqueue_event). A mailbox: messages
    // sent before the call are kept for it, first in first out.
    virtual DurableFuture dequeue_event(std::string_view name) = 0;

    // --- Cancellation with cleanup (plugin guide, "Graceful cancellation")
    // Completes, with the reason as its value, when duroxide.cancel_instance(instance, reason,
    // grace) asks this instance to stop. Calling it opts the execution in: a graceful cancel
    // of an execution that never called it is forced at once, as cancel_instance without a
    // grace period always is. The code may select on it with its work, compensate and end
    // with `throw OrchestrationCancelled(reason)`; if it has not ended when the grace period
    // is over, the cancel is forced. It is a dequeue of a reserved queue, so a request that
    // arrives while the code is not waiting on it is kept for its next call.
    DurableFuture cancellation_requested() { return dequeue_event(kCancellationQueue); }
    static constexpr std::string_view kCancellationQueue = "__duroxide:cancellation";

    // Writes to the server log (with instance, execution and orchestration) the first time
    // the code gets here; never again when the code is replayed. No history is recorded.
    virtual void trace(TraceLevel level, std::string_view message) = 0;
    void trace_debug(std::string_view message) { trace(TraceLevel::Debug, message); }
    void trace_info(std::string_view message) { trace(TraceLevel::Info, message); }
    void trace_warn(std::string_view message) { trace(TraceLevel::Warn, message); }
    void trace_error(std::string_view message) { trace(TraceLevel::Error, message); }

    virtual void set_custom_status(std::string_view status) = 0;
    virtual void reset_custom_status() = 0;
    virtual std::optional<std::string> get_custom_status() const = 0;

    // --- Durable key-value store (plugin guide, "Key-value store")
    // Values live with the instance: readable by clients (duroxide.get_kv_value) after the
    // turn that wrote them is recorded, and kept across continue_as_new. Reads are in-memory
    // and replay-stable. At most kMaxKvKeys keys, kMaxKvKeyBytes per key and kMaxKvValueBytes
    // per value: a write past a limit fails the orchestration, even if the code catches it.
    static constexpr std::size_t kMaxKvKeys = 150;
    static constexpr std::size_t kMaxKvKeyBytes = 1024;
    static constexpr std::size_t kMaxKvValueBytes = 64 * 1024;
    virtual void set_kv_value(std::string_view key, std::string_view value) = 0;
    virtual std::optional<std::string> get_kv_value(std::string_view key) const = 0;
    virtual std::map<std::string, std::string> get_kv_all_values() const = 0;
    virtual std::vector<std::string> get_kv_all_keys() const = 0; // sorted
    virtual std::size_t get_kv_length() const = 0;
    virtual void clear_kv_value(std::string_view key) = 0;
    virtual void clear_all_kv_values() = 0;
    // Clears the keys carried over from earlier executions whose last write is older than
    // `cutoff_ms` (Unix ms); keys this execution wrote are never pruned. Returns how many.
    virtual std::size_t prune_kv_values_updated_before(std::uint64_t cutoff_ms) = 0;

    // --- System calls: built-in activities, recorded like any activity (replay-stable)
    // A UUID v4 as text.
    DurableFuture new_guid() { return schedule_activity(kSystemNewGuid, ""); }
    // The activity worker's wall clock, Unix ms as decimal text (see utc_time_point).
    DurableFuture utc_now() { return schedule_activity(kSystemUtcNowMs, ""); }
    // Another instance's value of `key` (its live view, as duroxide.get_kv_value reads it);
    // the output is JSON: null or a string; decode it with kv_lookup_value.
    DurableFuture get_kv_value_from_instance(std::string_view instance, std::string_view key) {
        std::string input = "{\"instance_id\":";
        append_json_string(input, instance);
        input += ",\"key\":";
        append_json_string(input, key);
        input += "}";
        return schedule_activity(kSystemGetKvValue, input);
    }
    static constexpr std::string_view kSystemNewGuid = "__duroxide_syscall:new_guid";
    static constexpr std::string_view kSystemUtcNowMs = "__duroxide_syscall:utc_now_ms";
    static constexpr std::string_view kSystemGetKvValue = "__duroxide_syscall:get_kv_value";

    // Ends this execution and starts the next one with `input`; does not return.
    [[noreturn]] virtual void continue_as_new(std::string_view input) = 0;
    // The same, with the next execution running `version` of this orchestration (it must be
    // registered then) instead of the one the version policy picks.
    [[noreturn]] virtual void continue_as_new_versioned(std::string_view version,
                                                        std::string_view input) = 0;

    // Suspends until `future` completes.
    virtual Outcome await(const DurableFuture& future) = 0;
    virtual bool is_ready(const DurableFuture& future) const = 0;
    // Suspends until one of `futures` completes; returns the index of the one whose completion
    // comes first in history (deterministic on replay). The others lose and are cancelled, as
    // by DurableFuture::cancel(): awaiting a loser afterwards fails the orchestration.
    virtual std::size_t select(std::span<const DurableFuture> futures) = 0;
    // See DurableFuture::cancel().
    virtual void cancel(const DurableFuture& future) = 0;

    // --- Explicit activity sessions (plugin guide, "Explicit sessions"); declared after the
    // older virtual functions so that plugins built before them keep their vtable layout.
    // A session groups activities that must run on one activity worker (which may keep state
    // for it, ActivityContext::session_state). Without these calls, any id given to
    // schedule_activity_on_session is an implicit session, pinned while it is busy. Once the
    // instance has opened a session (in this or an earlier execution), it is in explicit mode:
    // scheduling on a session that is not open fails the orchestration. Opening is recorded
    // in history (replayed, matched like a schedule): opening an open session is a no-op,
    // reopening a closed one opens it again; more than duroxide.max_open_sessions open at once
    // fails the orchestration. Closing is recorded too, and is allowed for any id (closing an
    // unknown or closed session changes nothing); with the turn's commit the session's queued
    // activities are withdrawn, its worker loses it, and a running activity of it is cancelled
    // at its next lease renewal (its completion is discarded). Open sessions stay open across
    // continue_as_new and are all closed when the instance completes, fails or is cancelled.
    // Session ids: 1 to kMaxSessionIdBytes bytes, scoped to this instance.
    static constexpr std::size_t kMaxSessionIdBytes = 256;
    // Opens a session with an id generated from this instance's history (replay-stable).
    virtual std::string open_session() = 0;
    // Opens session `session_id` and returns it.
    virtual std::string open_session_with_id(std::string_view session_id) = 0;
    virtual void close_session(std::string_view session_id) = 0;
    // Whether session `session_id` is open (explicitly) in this instance now.
    virtual bool is_session_open(std::string_view session_id) const = 0;

    // Runs activity `name` up to policy.max_attempts() times, waiting the policy's backoff (a
    // durable timer) between attempts; with a timeout, each attempt races a timer and a
    // timeout ends the retries with the error "timeout: activity timed out". Returns the
    // first success or the last failure.
    Outcome schedule_activity_with_retry(std::string_view name, std::string_view input,
                                         const RetryPolicy& policy) {
        return retry_activity(name, input, policy, ActivityOptions{});
    }
    // The same with every attempt pinned to session `session_id`.
    Outcome schedule_activity_with_retry_on_session(std::string_view name, std::string_view input,
                                                    const RetryPolicy& policy,
                                                    std::string_view session_id) {
        return retry_activity(name, input, policy,
                              ActivityOptions{std::string(session_id), std::nullopt});
    }
    // The same with every attempt scheduled with `options` (its session and tag).
    Outcome schedule_activity_with_retry(std::string_view name, std::string_view input,
                                         const RetryPolicy& policy,
                                         const ActivityOptions& options) {
        return retry_activity(name, input, policy, options);
    }

    // Suspends until all complete; outcomes in argument order.
    std::vector<Outcome> join(std::span<const DurableFuture> futures) {
        std::vector<Outcome> outcomes;
        outcomes.reserve(futures.size());
        for (const auto& future : futures) {
            outcomes.push_back(await(future));
        }
        return outcomes;
    }

private:
    static void append_json_string(std::string& out, std::string_view text) {
        static constexpr char kHex[] = "0123456789abcdef";
        out += '"';
        for (char c : text) {
            const auto byte = static_cast<unsigned char>(c);
            if (c == '"' || c == '\\') {
                out += '\\';
                out += c;
            } else if (byte < 0x20) {
                out += "\\u00";
                out += kHex[byte >> 4];
                out += kHex[byte & 0xf];
            } else {
                out += c;
            }
        }
        out += '"';
    }

    Outcome retry_activity(std::string_view name, std::string_view input, const RetryPolicy& policy,
                           const ActivityOptions& options) {
        Outcome last = Outcome::failure("no attempt made");
        for (std::uint32_t attempt = 1; attempt <= policy.max_attempts(); ++attempt) {
            DurableFuture call = schedule_activity(name, input, options);
            if (policy.timeout()) {
                DurableFuture timer = schedule_timer(*policy.timeout());
                const DurableFuture race[] = {call, timer};
                if (select(race) == 1) {
                    return Outcome::failure("timeout: activity timed out");
                }
            }
            last = await(call);
            if (last.ok() || attempt == policy.max_attempts() || is_non_retryable(last)) {
                return last;
            }
            const auto delay = policy.delay_for_attempt(attempt);
            if (delay.count() > 0) {
                await(schedule_timer(delay));
            }
        }
        return last;
    }
};

// The value of get_kv_value_from_instance's output (JSON null or a JSON string); throws
// std::invalid_argument for anything else.
inline std::optional<std::string> kv_lookup_value(std::string_view json) {
    if (json == "null") {
        return std::nullopt;
    }
    if (json.size() < 2 || json.front() != '"' || json.back() != '"') {
        throw std::invalid_argument("not a JSON string or null");
    }
    auto hex = [&json](std::size_t at) {
        if (at + 4 > json.size() - 1) {
            throw std::invalid_argument("truncated \\u escape");
        }
        return static_cast<std::uint32_t>(std::stoul(std::string(json.substr(at, 4)), nullptr, 16));
    };
    auto put_utf8 = [](std::string& out, std::uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    };
    std::string out;
    for (std::size_t i = 1; i + 1 < json.size(); ++i) {
        const char c = json[i];
        if (c != '\\') {
            out += c;
            continue;
        }
        if (++i + 1 >= json.size()) {
            throw std::invalid_argument("truncated escape");
        }
        switch (json[i]) {
        case 'b':
            out += '\b';
            break;
        case 'f':
            out += '\f';
            break;
        case 'n':
            out += '\n';
            break;
        case 'r':
            out += '\r';
            break;
        case 't':
            out += '\t';
            break;
        case 'u': {
            std::uint32_t cp = hex(i + 1);
            i += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && i + 2 < json.size() && json[i + 1] == '\\' &&
                json[i + 2] == 'u') {
                const std::uint32_t low = hex(i + 3);
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            put_utf8(out, cp);
            break;
        }
        default:
            out += json[i];
            break; // \" \\ \/
        }
    }
    return out;
}
// utc_now's output as a time point.
inline std::chrono::system_clock::time_point utc_time_point(std::string_view ms_text) {
    return std::chrono::system_clock::time_point(
        std::chrono::milliseconds(std::stoll(std::string(ms_text))));
}

inline Outcome DurableFuture::get() const {
    return context_->await(*this);
}
inline bool DurableFuture::ready() const {
    return context_->is_ready(*this);
}
inline void DurableFuture::cancel() const {
    context_->cancel(*this);
}

} // namespace duroxide
