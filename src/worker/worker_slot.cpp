#include "worker/worker_slot.hpp"

#include "core/dispatch/activity_dispatcher.hpp"
#include "core/engine/activity_fiber.hpp"
#include "core/fiber/stack_pool.hpp"
#include "core/sessions/session_states.hpp"
#include "worker/connection.hpp"
#include "worker/libpq_activity_provider.hpp"
#include "worker/remote_host.hpp"

#include <chrono>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

namespace duroxide::worker {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::mutex log_mutex;

void log_line(const std::string& who, std::string_view message) {
    std::lock_guard lock(log_mutex);
    std::cerr << "duroxide-worker " << who << ": " << message << std::endl;
}

std::string label(const core::work::ActivityExecute& item) {
    return "activity " + item.name + " #" + std::to_string(item.id) + " of \"" + item.instance +
           "\"";
}

const char* level_name(TraceLevel level) {
    switch (level) {
    case TraceLevel::Debug:
        return "DEBUG";
    case TraceLevel::Info:
        return "INFO";
    case TraceLevel::Warn:
        return "WARN";
    case TraceLevel::Error:
        return "ERROR";
    }
    return "INFO";
}

class Slot {
public:
    Slot(const Options& options, const ActivityRegistry& activities, int index)
        : options_(options), activities_(activities),
          worker_id_(options.worker_id + "-" + std::to_string(index)),
          tags_(core::parse_tag_filter(options.tags)),
          stacks_(static_cast<std::size_t>(options.fiber_stack_kb) * 1024) {}

    void run(const std::atomic<bool>& stop) {
        while (!stop) {
            try {
                Connection connection(options_.conninfo);
                LibpqActivityProvider provider(connection,
                                               {.lock_timeout_ms = options_.lock_timeout_ms,
                                                .batch = options_.batch,
                                                .max_sessions = options_.max_sessions});
                server_ = provider.attach(worker_id_);
                log_line(worker_id_, "attached as " + server_.owner_id);
                serve(provider, stop);
                provider.detach();
                return;
            } catch (const std::exception& e) {
                log_line(worker_id_, std::string("connection lost or refused: ") + e.what() +
                                         "; connecting again in 1 s");
            }
            session_states_ = core::SessionStates{};
            for (int i = 0; i < 10 && !stop; ++i) {
                std::this_thread::sleep_for(milliseconds(100));
            }
        }
    }

private:
    void serve(LibpqActivityProvider& provider, const std::atomic<bool>& stop) {
        auto idle_since = Clock::now();
        const milliseconds poll_interval(options_.poll_interval_ms);
        bool look = true;
        while (!stop) {
            keep_sessions(provider);
            if (look) {
                std::optional<core::provider::ActivityItem> item = provider.fetch_work_item(tags_);
                if (item) {
                    handle(provider, *item);
                    continue;
                }
                look = false;
                idle_since = Clock::now();
            }
            // Idle: the server's NOTIFY (new activities) ends the wait; without one, claim again
            // after the poll interval. Waited in slices of at most a second, so that a stop and
            // the session renewals are not held up.
            look = provider.connection().wait_for_notification(
                       std::min(milliseconds(1000), poll_interval)) ||
                   Clock::now() - idle_since >= poll_interval;
        }
        provider.give_back_held();
    }

    // Renews the slot's sessions every five seconds (idle, and at a running activity's
    // suspension points), and drops the state of those it no longer owns.
    // `running`: the session of the activity under way, whose state it may hold a reference
    // to (kept until the activity ends).
    void keep_sessions(LibpqActivityProvider& provider,
                       const core::provider::ActivityItem* running = nullptr) {
        if (Clock::now() - sessions_renewed_ < milliseconds(5000)) {
            return;
        }
        sessions_renewed_ = Clock::now();
        std::set<std::string> kept;
        for (const auto& [instance, session] : provider.renew_sessions()) {
            kept.insert(core::session_state_key(instance, session));
        }
        if (running != nullptr && running->item.session_id) {
            kept.insert(core::session_state_key(running->item.instance, *running->item.session_id));
        }
        session_states_.keep_only(kept);
    }

    void handle(LibpqActivityProvider& provider, const core::provider::ActivityItem& item) {
        const ActivityFn* handler = activities_.find(item.item.name);
        if (item.attempt_count > server_.max_attempts) {
            record(provider, item,
                   core::dispatch::activity_poison(item.item, item.attempt_count,
                                                   server_.max_attempts, handler != nullptr));
            return;
        }
        if (handler == nullptr) {
            const int64_t delay = core::dispatch::unregistered_activity_delay_ms(
                item.attempt_count,
                {.max_attempts = server_.max_attempts,
                 .unregistered_backoff = core::Millis(server_.unregistered_backoff_ms)});
            provider.abandon_work_item(item, delay, false);
            log_line(worker_id_, label(item.item) +
                                     " is not provided by this worker's plugins; "
                                     "given back for " +
                                     std::to_string(delay) + " ms");
            return;
        }
        RemoteHost host(provider, item, milliseconds(options_.lock_timeout_ms),
                        options_.statement_timeout_ms,
                        [this, &provider, &item] { keep_sessions(provider, &item); });
        const core::ActivityEnvironment environment{
            .worker_id = server_.owner_id,
            .session_states = &session_states_,
            .trace =
                [this](const core::work::ActivityExecute& activity, TraceLevel level,
                       std::string_view message) {
                    log_line(worker_id_, std::string(level_name(level)) + " " + label(activity) +
                                             ": " + std::string(message));
                },
            .channel = nullptr,
            .max_output_bytes = server_.max_output_bytes};
        core::ActivityRun run;
        try {
            run = core::run_activity_on_fiber(*handler, item.item, environment, stacks_, host,
                                              milliseconds(server_.grace_ms));
        } catch (const PgError&) {
            throw; // the connection: reconnect; the server redelivers
        } catch (const std::exception& e) {
            host.roll_back();
            provider.abandon_work_item(item, 1000, false);
            log_line(worker_id_, label(item.item) + " could not run: " + e.what());
            return;
        }
        if (run.outcome != core::ActivityRun::Outcome::Finished) {
            host.roll_back();
            log_line(worker_id_, label(item.item) + " was cancelled: nothing is recorded");
            return;
        }
        const bool completed =
            std::holds_alternative<core::work::ActivityCompleted>(run.completion->kind);
        if (run.used_sql && completed) {
            try {
                host.commit_with(*run.completion);
            } catch (const core::provider::LeaseLost& e) {
                log_line(worker_id_,
                         std::string(e.what()) + " (its ctx.sql() writes are rolled back)");
            }
            return;
        }
        host.roll_back(); // a failed activity's statements do not stand
        record(provider, item, *run.completion);
    }

    void record(LibpqActivityProvider& provider, const core::provider::ActivityItem& item,
                const core::WorkItem& completion) {
        try {
            provider.ack_work_item(item, completion);
        } catch (const core::provider::LeaseLost& e) {
            log_line(worker_id_, std::string(e.what()) + " (discarded)");
        }
    }

    const Options& options_;
    const ActivityRegistry& activities_;
    std::string worker_id_;
    core::TagFilter tags_;
    core::StackPool stacks_;
    core::SessionStates session_states_;
    ServerSettings server_;
    Clock::time_point sessions_renewed_ = Clock::now();
};

} // namespace

void run_slot(const Options& options, const ActivityRegistry& activities, int index,
              const std::atomic<bool>& stop) {
    Slot(options, activities, index).run(stop);
}

} // namespace duroxide::worker
