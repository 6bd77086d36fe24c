#include "core/workflow/progress.hpp"

#include "core/fiber/stack_pool.hpp"
#include "core/replay/turn.hpp"
#include "core/workflow/definition.hpp"
#include "core/workflow/interpreter.hpp"

#include <map>
#include <stdexcept>

namespace duroxide::core::workflow {

namespace {

struct Attribution {
    std::string path;
    std::string role;
    std::optional<bool> consumed_ok; // the interpreter consumed the outcome
};

class Recorder final : public ScheduleObserver {
public:
    void scheduled(std::uint64_t id, const std::string& path, std::string_view role) override {
        by_id.try_emplace(id, Attribution{path, std::string(role), std::nullopt});
    }
    void finished(std::uint64_t id, bool ok) override {
        if (auto it = by_id.find(id); it != by_id.end()) {
            it->second.consumed_ok = ok;
        }
    }
    std::map<std::uint64_t, Attribution> by_id;
};

// Installs the recorder for the replay and removes it on every path out.
class ObserverScope {
public:
    explicit ObserverScope(ScheduleObserver* o) : previous_(set_schedule_observer(o)) {}
    ~ObserverScope() { set_schedule_observer(previous_); }
    ObserverScope(const ObserverScope&) = delete;
    ObserverScope& operator=(const ObserverScope&) = delete;

private:
    ScheduleObserver* previous_;
};

bool is_schedule(const Event& e) {
    return std::holds_alternative<events::ActivityScheduled>(e.kind) ||
           std::holds_alternative<events::TimerCreated>(e.kind) ||
           std::holds_alternative<events::SubOrchestrationScheduled>(e.kind) ||
           std::holds_alternative<events::ExternalSubscribed>(e.kind) ||
           std::holds_alternative<events::QueueSubscribed>(e.kind);
}

// How an event with a source id ends the work it names; nullptr when it does not.
const char* outcome_of(const Event& e) {
    if (std::holds_alternative<events::ActivityCompleted>(e.kind) ||
        std::holds_alternative<events::TimerFired>(e.kind) ||
        std::holds_alternative<events::SubOrchestrationCompleted>(e.kind)) {
        return "done";
    }
    if (std::holds_alternative<events::ActivityFailed>(e.kind) ||
        std::holds_alternative<events::SubOrchestrationFailed>(e.kind)) {
        return "failed";
    }
    if (e.cancellation_reason()) {
        return "cancelled";
    }
    return nullptr;
}

struct Work {
    std::uint64_t id = 0, scheduled_ms = 0;
    std::string state = "running";
    std::optional<std::uint64_t> finished_ms;
    bool consumed = false; // the interpreter took its outcome
};

struct NodeProgress {
    std::vector<Work> work; // in schedule order
};

// A single step: the interpreter schedules it directly (its is_leaf).
bool is_step(const Node& n) {
    switch (n.kind) {
    case NodeKind::Sql:
    case NodeKind::Sleep:
    case NodeKind::WaitForSchedule:
    case NodeKind::SubWorkflow:
    case NodeKind::WaitEvent:
    case NodeKind::Dequeue:
        return true;
    case NodeKind::Activity:
    case NodeKind::Http:
        return true; // with `retry`, each attempt is one scheduling
    default:
        return false;
    }
}

// Each node with whether it schedules durable work itself: a single step, or a branch of
// parallel/race/foreach (which runs as a child instance when it is not a single step; the
// nodes inside such a branch run in the child's history, so they are not tracked here).
void collect(const Node& n, const Node* parent, bool in_child,
             std::vector<std::pair<const Node*, bool>>& out) {
    const bool branch =
        parent && (parent->kind == NodeKind::Parallel || parent->kind == NodeKind::Race ||
                   parent->kind == NodeKind::Foreach);
    out.emplace_back(&n, !in_child && (branch || is_step(n)));
    const bool child_instance = in_child || (branch && !is_step(n));
    for (const auto& child : n.children) {
        collect(child, &n, child_instance, out);
    }
}

Json optional_ms(const std::optional<std::uint64_t>& ms) {
    return ms ? Json(static_cast<std::int64_t>(*ms)) : Json();
}

// Replays the recorded history with no new messages: the interpreter re-takes every decision
// it took, telling the recorder which node scheduled what. A turn that would schedule new work
// only reports it in its result, which is dropped.
void replay(std::span<const Event> history, const events::OrchestrationStarted& started,
            Recorder& recorder) {
    OrchestrationRegistry registry;
    registry.register_versioned(std::string(kWorkflowOrchestration), started.version, run_workflow);
    TurnInput input;
    input.instance = history.front().instance_id;
    input.execution_id = history.front().execution_id;
    // Without its end, so that the code runs (a turn of an ended execution runs nothing).
    for (const auto& e : history) {
        if (!e.is_terminal()) {
            input.history.push_back(e);
        }
    }
    input.now_ms = history.back().timestamp_ms;
    StackPool stacks(256 * 1024, 1);
    ObserverScope scope(&recorder);
    run_turn(registry, stacks, input);
}

// The definition the instance runs (the one its history pins), or that it loaded.
std::optional<Node> definition_of(std::span<const Event> history,
                                  const events::OrchestrationStarted& started,
                                  const Recorder& recorder) {
    Json wrapper = Json::parse(started.input);
    Json definition;
    if (const Json* d = wrapper.find("definition")) {
        definition = *d;
    } else {
        for (const auto& e : history) {
            const auto* done = std::get_if<events::ActivityCompleted>(&e.kind);
            if (done && e.source_event_id && recorder.by_id.count(*e.source_event_id) &&
                recorder.by_id.at(*e.source_event_id).role == "definition") {
                if (const Json* loaded = Json::parse(done->result).find("definition")) {
                    definition = *loaded;
                }
            }
        }
    }
    if (definition.is_null()) {
        return std::nullopt;
    }
    return parse_definition(definition, validation_context_of(wrapper));
}

// Every schedule event of the history (in `order`), with how and when it ended.
std::map<std::uint64_t, Work> work_of(std::span<const Event> history,
                                      std::vector<std::uint64_t>& order) {
    std::map<std::uint64_t, Work> work;
    for (const auto& e : history) {
        if (is_schedule(e)) {
            work[e.event_id] =
                Work{.id = e.event_id, .scheduled_ms = e.timestamp_ms, .finished_ms = std::nullopt};
            order.push_back(e.event_id);
        } else if (const char* end = outcome_of(e); end && e.source_event_id) {
            if (auto it = work.find(*e.source_event_id);
                it != work.end() && it->second.state == "running") {
                it->second.state = end;
                it->second.finished_ms = e.timestamp_ms;
            }
        }
    }
    return work;
}

JsonObject unattributed_row(const Work& w) {
    JsonObject row;
    row["path"] = Json();
    row["kind"] = Json();
    row["state"] = Json("unattributed");
    row["attempts"] = Json(1);
    row["started_ms"] = Json(static_cast<std::int64_t>(w.scheduled_ms));
    row["finished_ms"] = optional_ms(w.finished_ms);
    return row;
}

// The work of each node by path; work no node can be named for goes to `unattributed`.
std::map<std::string, NodeProgress> attribute(std::map<std::uint64_t, Work>& work,
                                              const std::vector<std::uint64_t>& order,
                                              const Recorder& recorder, JsonArray& unattributed) {
    std::map<std::string, NodeProgress> by_path;
    for (std::uint64_t id : order) {
        Work& w = work[id];
        auto it = recorder.by_id.find(id);
        if (it == recorder.by_id.end()) {
            unattributed.emplace_back(unattributed_row(w));
            continue;
        }
        const Attribution& a = it->second;
        if (a.role == "timeout") {
            // The timer of a wait's timeout (scheduled right after the wait): when it fired and
            // the interpreter did not take the wait's event, the wait timed out: failed.
            auto node = by_path.find(a.path);
            if (w.state == "done" && node != by_path.end() && !node->second.work.empty() &&
                !node->second.work.back().consumed) {
                node->second.work.back().state = "failed";
                node->second.work.back().finished_ms = w.finished_ms;
            }
            continue;
        }
        if (a.role == "definition" || a.role == "clock" || a.role == "backoff") {
            continue; // part of starting the instance / of a sleep until or wait_for_schedule
        }
        // A wait or dequeue ends with an event that does not name it: the interpreter says.
        w.consumed = a.consumed_ok.has_value();
        if (w.state == "running" && a.consumed_ok) {
            w.state = *a.consumed_ok ? "done" : "failed";
        }
        by_path[a.path].work.push_back(w);
    }
    return by_path;
}

JsonObject node_row(const Node& n, bool tracked,
                    const std::map<std::string, NodeProgress>& by_path) {
    JsonObject row;
    row["path"] = Json(n.path);
    row["kind"] = Json(std::string(kind_name(n.kind)));
    auto it = by_path.find(n.path);
    if (it != by_path.end()) {
        const auto& list = it->second.work;
        row["state"] = Json(list.back().state);
        row["attempts"] = Json(static_cast<std::int64_t>(list.size()));
        row["started_ms"] = Json(static_cast<std::int64_t>(list.front().scheduled_ms));
        row["finished_ms"] = optional_ms(list.back().finished_ms);
    } else {
        row["state"] = tracked ? Json("pending") : Json();
        row["attempts"] = Json(0);
        row["started_ms"] = Json();
        row["finished_ms"] = Json();
    }
    return row;
}

int state_rank(const Json& state) {
    if (!state.is_string()) {
        return 0;
    }
    static const char* const order[] = {"pending", "done", "cancelled", "failed", "running"};
    for (int i = 0; i < 5; ++i) {
        if (state.as_string() == order[i]) {
            return i + 1;
        }
    }
    return 0;
}

// Folds another run of the same node (a foreach body's, once per item) into `into`.
void merge_row(JsonObject& into, const JsonObject& row) {
    const Json& state = row.at("state");
    const bool later_state = state_rank(state) > state_rank(into["state"]);
    into["attempts"] = Json(into["attempts"].as_int() + row.at("attempts").as_int());
    const Json& started = row.at("started_ms");
    if (started.is_int() &&
        (!into["started_ms"].is_int() || started.as_int() < into["started_ms"].as_int())) {
        into["started_ms"] = started;
    }
    const Json& finished = row.at("finished_ms");
    if (finished.is_int() &&
        (!into["finished_ms"].is_int() || finished.as_int() > into["finished_ms"].as_int())) {
        into["finished_ms"] = finished;
    }
    if (later_state) {
        into["state"] = state;
    }
    if (into["state"].is_string() && into["state"].as_string() == "running") {
        into["finished_ms"] = Json();
    }
}

// The rows of the nodes inside branches that ran as child instances, by the parent's paths.
std::map<std::string, JsonObject> child_rows(std::span<const Event> history,
                                             const Recorder& recorder,
                                             const ChildHistories& children) {
    std::map<std::string, JsonObject> merged;
    for (const auto& e : history) {
        const auto* sub = std::get_if<events::SubOrchestrationScheduled>(&e.kind);
        auto a = recorder.by_id.find(e.event_id);
        if (!sub || a == recorder.by_id.end() || a->second.role != "branch") {
            continue;
        }
        const std::vector<Event>* child = children(sub->instance);
        if (child == nullptr || child->empty()) {
            continue;
        }
        Json rows;
        try {
            rows = workflow_progress(*child, children);
        } catch (const std::invalid_argument&) {
            continue;
        }
        for (const auto& row : rows.as_array()) {
            const Json* path = row.find("path");
            if (!path || !path->is_string() || path->as_string() == "$") {
                continue; // the branch node itself has its row; unattributed work stays there
            }
            const std::string at = a->second.path + path->as_string().substr(1);
            auto [it, fresh] = merged.try_emplace(at, row.as_object());
            if (fresh) {
                it->second["path"] = Json(at);
            } else {
                merge_row(it->second, row.as_object());
            }
        }
    }
    return merged;
}

} // namespace

Json workflow_progress(std::span<const Event> history, const ChildHistories& children) {
    if (history.empty()) {
        throw std::invalid_argument("the instance has no history yet");
    }
    const auto* started = std::get_if<events::OrchestrationStarted>(&history.front().kind);
    if (!started || started->name != kWorkflowOrchestration) {
        throw std::invalid_argument("the instance does not run a workflow");
    }
    Recorder recorder;
    replay(history, *started, recorder);
    const std::optional<Node> root = definition_of(history, *started, recorder);

    std::vector<std::uint64_t> order;
    std::map<std::uint64_t, Work> work = work_of(history, order);
    JsonArray unattributed;
    const std::map<std::string, NodeProgress> by_path =
        attribute(work, order, recorder, unattributed);

    std::map<std::string, JsonObject> inside;
    if (children) {
        inside = child_rows(history, recorder, children);
    }
    JsonArray rows;
    if (root) {
        std::vector<std::pair<const Node*, bool>> nodes;
        collect(*root, nullptr, false, nodes);
        for (const auto& [n, tracked] : nodes) {
            auto it = inside.find(n->path);
            rows.emplace_back(it != inside.end() ? it->second : node_row(*n, tracked, by_path));
        }
    }
    for (auto& row : unattributed) {
        rows.push_back(std::move(row));
    }
    return Json(std::move(rows));
}

} // namespace duroxide::core::workflow
