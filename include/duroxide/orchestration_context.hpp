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
    Outcome(bool ok, std::string text) : ok_(ok), text_(std::move(text)) {}
    bool ok_;
    std::string text_;
};

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

class OrchestrationContext;

// Where a scheduled activity may run. Both are recorded in its ActivityScheduled event and
// take part in the replay match, so code must pass the same options on every replay.
struct ActivityOptions {
    // Pins the activity to the activity worker that owns this session.
    std::optional<std::string> session_id;
    // Only activity workers whose tag filter admits this tag run the activity (at most 256
    // bytes; a longer tag fails the orchestration). Without one, workers with the default
    // filter run it. See duroxide.worker_tag_filter.
    std::optional<std::string> tag;
};

// A handle on scheduled durable work (activity, timer, event wait).
class DurableFuture {
public:
    DurableFuture() = default;
    DurableFuture(OrchestrationContext* context, std::uint64_t id) : context_(context), id_(id) {}
    // Suspends the orchestration until the work completes.
    Outcome get() const;
    // get().value(): the result, or TaskFailed.
    std::string value() const { return get().value(); }
    bool ready() const;
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

    // Ends this execution and starts the next one with `input`; does not return.
    [[noreturn]] virtual void continue_as_new(std::string_view input) = 0;

    // Suspends until `future` completes.
    virtual Outcome await(const DurableFuture& future) = 0;
    virtual bool is_ready(const DurableFuture& future) const = 0;
    // Suspends until one of `futures` completes; returns the index of the one whose completion
    // comes first in history (deterministic on replay).
    virtual std::size_t select(std::span<const DurableFuture> futures) = 0;

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
            if (last.ok() || attempt == policy.max_attempts()) {
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

inline Outcome DurableFuture::get() const {
    return context_->await(*this);
}
inline bool DurableFuture::ready() const {
    return context_->is_ready(*this);
}

} // namespace duroxide
