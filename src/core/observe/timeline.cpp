#include "core/observe/timeline.hpp"

#include "core/observe/text.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

namespace duroxide::core::observe {

namespace {

bool cancelled(const ErrorDetails& details) {
    const auto* app = std::get_if<ApplicationError>(&details.value);
    return app && std::holds_alternative<AppCancelled>(app->kind);
}

// The rows of one instance's execution (its own row first), and which rows started children.
class InstanceRows {
public:
    InstanceRows(const InstanceHistory& h, int depth, uint64_t now_ms) : h_(h), depth_(depth) {
        TimelineRow self{.kind = RowKind::Instance, .instance = h.instance, .depth = depth};
        if (h.history.empty()) {
            self.start_ms = now_ms;
            self.detail = h.status.empty() ? "not started yet" : h.status;
            rows_.push_back(std::move(self));
            return;
        }
        self.start_ms = h.history.front().timestamp_ms;
        self.execution_id = h.history.front().execution_id;
        rows_.push_back(std::move(self));
        for (const Event& e : h.history) {
            std::visit([&](const auto& kind) { on(e, kind); }, e.kind);
        }
        if (rows_[0].end_ms) { // work left open when the execution ended was never awaited
            for (auto& row : rows_) {
                if (!row.end_ms) {
                    row.end_ms = rows_[0].end_ms;
                    row.outcome = Outcome::Cancelled;
                    if (row.detail.empty() || row.kind == RowKind::Timer) {
                        row.detail = "not awaited when the execution ended";
                    }
                }
            }
        }
    }

    std::vector<TimelineRow>& rows() { return rows_; }

private:
    TimelineRow& add(const Event& e, RowKind kind, std::string name) {
        rows_.push_back({.kind = kind,
                         .instance = h_.instance,
                         .depth = depth_,
                         .name = std::move(name),
                         .start_ms = e.timestamp_ms});
        by_event_[e.event_id] = rows_.size() - 1;
        return rows_.back();
    }

    TimelineRow* source_row(const Event& e) {
        if (!e.source_event_id) {
            return nullptr;
        }
        auto it = by_event_.find(*e.source_event_id);
        return it == by_event_.end() ? nullptr : &rows_[it->second];
    }

    void finish(TimelineRow* row, const Event& e, Outcome outcome, std::string detail = {}) {
        if (!row || row->end_ms) {
            return;
        }
        row->end_ms = e.timestamp_ms;
        row->outcome = outcome;
        if (!detail.empty()) {
            row->detail = std::move(detail);
        }
    }

    void fail(TimelineRow* row, const Event& e, const ErrorDetails& details) {
        finish(row, e, cancelled(details) ? Outcome::Cancelled : Outcome::Failed,
               details.display_message());
    }

    void end_instance(const Event& e, Outcome outcome, std::string detail) {
        rows_[0].end_ms = e.timestamp_ms;
        rows_[0].outcome = outcome;
        rows_[0].detail = std::move(detail);
    }

    // Takes the oldest open row of `waiting` (rows cancelled meanwhile are skipped).
    TimelineRow* take(std::deque<std::size_t>& waiting) {
        while (!waiting.empty()) {
            TimelineRow& row = rows_[waiting.front()];
            waiting.pop_front();
            if (!row.end_ms) {
                return &row;
            }
        }
        return nullptr;
    }

    template <typename K>
    void on(const Event& e, const K& kind) {
        if constexpr (std::is_same_v<K, events::OrchestrationStarted>) {
            rows_[0].name = kind.name;
        } else if constexpr (std::is_same_v<K, events::OrchestrationCompleted>) {
            end_instance(e, Outcome::Completed, "");
        } else if constexpr (std::is_same_v<K, events::OrchestrationFailed>) {
            end_instance(e, cancelled(kind.details) ? Outcome::Cancelled : Outcome::Failed,
                         kind.details.display_message());
        } else if constexpr (std::is_same_v<K, events::OrchestrationContinuedAsNew>) {
            end_instance(e, Outcome::Completed, "continued as new");
        } else if constexpr (std::is_same_v<K, events::OrchestrationCancelRequested>) {
            if (!rows_[0].end_ms) {
                rows_[0].detail = "cancellation requested: " + kind.reason;
            }
        } else if constexpr (std::is_same_v<K, events::ActivityScheduled>) {
            const auto key = std::make_pair(kind.name, kind.input);
            int attempt = 1;
            if (auto previous = last_call_.find(key); previous != last_call_.end()) {
                const TimelineRow& before = rows_[previous->second];
                if (before.end_ms && before.outcome == Outcome::Failed) {
                    attempt = before.attempt + 1;
                }
            }
            add(e, RowKind::Activity, kind.name).attempt = attempt;
            last_call_[key] = rows_.size() - 1;
        } else if constexpr (std::is_same_v<K, events::ActivityCompleted> ||
                             std::is_same_v<K, events::SubOrchestrationCompleted> ||
                             std::is_same_v<K, events::TimerFired>) {
            finish(source_row(e), e, Outcome::Completed);
        } else if constexpr (std::is_same_v<K, events::ActivityFailed> ||
                             std::is_same_v<K, events::SubOrchestrationFailed>) {
            fail(source_row(e), e, kind.details);
        } else if constexpr (std::is_same_v<K, events::ActivityCancelRequested> ||
                             std::is_same_v<K, events::SubOrchestrationCancelRequested> ||
                             std::is_same_v<K, events::ExternalSubscribedCancelled> ||
                             std::is_same_v<K, events::QueueSubscriptionCancelled>) {
            finish(source_row(e), e, Outcome::Cancelled, "cancelled: " + kind.reason);
        } else if constexpr (std::is_same_v<K, events::TimerCreated>) {
            add(e, RowKind::Timer, "").detail =
                "fires after " + duration_text(kind.fire_at_ms > e.timestamp_ms
                                                   ? kind.fire_at_ms - e.timestamp_ms
                                                   : 0);
        } else if constexpr (std::is_same_v<K, events::ExternalSubscribed>) {
            add(e, RowKind::Wait, kind.name);
            waits_[kind.name].push_back(rows_.size() - 1);
        } else if constexpr (std::is_same_v<K, events::ExternalEvent>) {
            finish(take(waits_[kind.name]), e, Outcome::Completed);
        } else if constexpr (std::is_same_v<K, events::QueueSubscribed>) {
            add(e, RowKind::Dequeue, kind.name);
            if (unsigned& buffered = buffered_[kind.name]; buffered > 0) {
                --buffered;
                finish(&rows_.back(), e, Outcome::Completed);
            } else {
                dequeues_[kind.name].push_back(rows_.size() - 1);
            }
        } else if constexpr (std::is_same_v<K, events::QueueEventDelivered>) {
            if (TimelineRow* row = take(dequeues_[kind.name])) {
                finish(row, e, Outcome::Completed);
            } else {
                ++buffered_[kind.name];
            }
        } else if constexpr (std::is_same_v<K, events::SubOrchestrationScheduled>) {
            add(e, RowKind::SubOrchestration, kind.name).child = kind.instance;
        }
    }

    const InstanceHistory& h_;
    int depth_;
    std::vector<TimelineRow> rows_;
    std::unordered_map<uint64_t, std::size_t> by_event_;
    std::map<std::pair<std::string, std::string>, std::size_t> last_call_;
    std::map<std::string, std::deque<std::size_t>> waits_, dequeues_;
    std::map<std::string, unsigned> buffered_;
};

class Builder {
public:
    Builder(std::span<const InstanceHistory> tree, uint64_t now_ms, std::size_t max_rows)
        : now_ms_(now_ms), max_rows_(max_rows) {
        for (const auto& h : tree) {
            by_id_.emplace(h.instance, &h);
            if (h.parent) {
                children_[*h.parent].push_back(&h);
            }
        }
    }

    void add_instance(const InstanceHistory& h, int depth) {
        if (!visited_.insert(h.instance).second) {
            return; // a cycle in hostile input
        }
        InstanceRows own(h, depth, now_ms_);
        std::unordered_set<std::string> placed;
        for (auto& row : own.rows()) {
            const std::optional<std::string> child = row.child;
            push(std::move(row));
            if (child && by_id_.count(*child) && placed.insert(*child).second) {
                add_instance(*by_id_.at(*child), depth + 1);
            }
        }
        // Children this execution did not start (an earlier execution's, say).
        if (auto it = children_.find(h.instance); it != children_.end()) {
            for (const InstanceHistory* child : it->second) {
                if (!placed.count(child->instance)) {
                    add_instance(*child, depth + 1);
                }
            }
        }
    }

    Timeline finish(const std::string& root) {
        timeline_.root = root;
        bool first = true;
        for (const auto& row : timeline_.rows) {
            const uint64_t end = row.end_ms.value_or(std::max(now_ms_, row.start_ms));
            timeline_.start_ms = first ? row.start_ms : std::min(timeline_.start_ms, row.start_ms);
            timeline_.end_ms = first ? end : std::max(timeline_.end_ms, end);
            first = false;
        }
        return std::move(timeline_);
    }

    const InstanceHistory* find(const std::string& id) const {
        auto it = by_id_.find(id);
        return it == by_id_.end() ? nullptr : it->second;
    }

private:
    void push(TimelineRow row) {
        if (timeline_.rows.size() < max_rows_) {
            timeline_.rows.push_back(std::move(row));
        } else {
            ++timeline_.rows_left_out;
        }
    }

    uint64_t now_ms_;
    std::size_t max_rows_;
    std::unordered_map<std::string, const InstanceHistory*> by_id_;
    std::unordered_map<std::string, std::vector<const InstanceHistory*>> children_;
    std::unordered_set<std::string> visited_;
    Timeline timeline_;
};

} // namespace

Timeline build_timeline(std::span<const InstanceHistory> tree, const std::string& root,
                        uint64_t now_ms, std::size_t max_rows) {
    Builder builder(tree, now_ms, max_rows);
    if (const InstanceHistory* h = builder.find(root)) {
        builder.add_instance(*h, 0);
    }
    return builder.finish(root);
}

const char* outcome_name(Outcome outcome) {
    switch (outcome) {
    case Outcome::Running:
        return "running";
    case Outcome::Completed:
        return "completed";
    case Outcome::Failed:
        return "failed";
    case Outcome::Cancelled:
        return "cancelled";
    }
    return "running";
}

} // namespace duroxide::core::observe
