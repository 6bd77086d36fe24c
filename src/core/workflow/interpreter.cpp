#include "core/workflow/interpreter.hpp"

#include "core/workflow/definition.hpp"
#include "core/workflow/json.hpp"
#include "core/workflow/timestamp.hpp"

#include <stdexcept>

namespace duroxide::core::workflow {

namespace {

thread_local ScheduleObserver* observer = nullptr;

void note_scheduled(std::uint64_t id, const std::string& path, std::string_view role) {
    if (observer) {
        observer->scheduled(id, path, role);
    }
}

// A failure inside the workflow: an activity, SQL step or child failed, an expression could
// not be evaluated, or a `fail` node ran. `try` catches these (and only these).
struct WorkflowFailure : std::runtime_error {
    WorkflowFailure(const std::string& message, std::string where)
        : std::runtime_error(message), at(std::move(where)) {}
    std::string at;
};

// `break`: unwinds to the innermost loop of this instance (validation guarantees one).
struct BreakSignal {};

// `return`: unwinds to the top of the definition (or of the branch) with its value.
struct ReturnSignal {
    Json value;
};

struct Pending {
    DurableFuture future;
    const Node* node;
    bool branch; // a child instance running the node as a branch
};

class Interpreter {
public:
    Interpreter(OrchestrationContext& ctx, Json& wrapper) : ctx_(ctx), wrapper_(wrapper) {
        JsonObject scope;
        scope["input"] = wrapper.find("input") ? *wrapper.find("input") : Json();
        scope["steps"] = Json(JsonObject{});
        // "vars": the starter's variables, snapshotted by start_workflow (absent when it has none).
        for (const char* root : {"steps", "item", "index", "error", "iteration", "vars"}) {
            if (const Json* v = wrapper.find(root)) {
                scope[root] = *v;
            }
        }
        if (const Json* resume = wrapper.find("resume")) {
            if (const Json* s = resume->find("steps"); s && s->is_object()) {
                scope["steps"] = *s;
            }
            if (const Json* i = resume->find("iteration"); i && i->is_int()) {
                resume_iteration_ = i->as_int();
            }
        }
        scope_ = Json(std::move(scope));
    }

    Json run_root(const Node& root) { return run(root); }
    const Json& steps() const { return *scope_.find("steps"); }

private:
    JsonObject& scope() { return scope_.as_object(); }
    JsonObject& steps_object() { return scope()["steps"].as_object(); }

    Json run(const Node& n) {
        Json result = exec(n);
        if (!n.as.empty()) {
            steps_object()[n.as] = result;
        }
        return result;
    }

    Json evaluate(const Expression& e, const Node& n) {
        try {
            return e.evaluate(scope_);
        } catch (const ExpressionError& err) {
            throw WorkflowFailure(std::string("expression \"") + e.text() + "\": " + err.what(),
                                  n.path);
        }
    }
    Json evaluate(const Json& value_template, const Node& n) {
        try {
            return evaluate_template(value_template, scope_);
        } catch (const ExpressionError& err) {
            throw WorkflowFailure(std::string("expression: ") + err.what(), n.path);
        }
    }

    static bool is_leaf(const Node& n) {
        switch (n.kind) {
        case NodeKind::Sql:
        case NodeKind::SubWorkflow:
            return true;
        case NodeKind::Sleep:
            return !n.condition; // sleep until: reads the clock first (sleep_until)
        case NodeKind::Activity:
        case NodeKind::Http:
            return !n.retry;
        case NodeKind::WaitEvent:
        case NodeKind::Dequeue:
            return !n.timeout_ms;
        default:
            return false;
        }
    }

    ActivityOptions options(const Node& n) {
        ActivityOptions o;
        o.tag = n.tag;
        if (n.session) {
            o.session_id = to_text(evaluate(Json(*n.session), n));
        }
        return o;
    }

    std::string sub_workflow_input(const Node& n) {
        JsonObject child;
        child["workflow"] = Json(n.text);
        if (n.version) {
            child["version"] = Json(*n.version);
        }
        child["input"] = evaluate(n.value, n);
        if (const Json* vars = wrapper_.find("vars")) {
            child["vars"] = *vars; // the same starter: the same snapshot
        }
        return Json(std::move(child)).dump();
    }

    Pending start_leaf(const Node& n) {
        Pending p = start_leaf_work(n);
        note_scheduled(p.future.id(), n.path, "step");
        return p;
    }

    [[gnu::noinline]] Pending start_leaf_work(const Node& n) {
        switch (n.kind) {
        case NodeKind::Sql: {
            JsonArray params;
            const Json values = evaluate(n.value, n);
            for (const auto& p : values.as_array()) {
                params.push_back(p.is_null() ? Json() : Json(to_text(p)));
            }
            JsonObject call;
            call["sql"] = Json(n.text);
            call["params"] = Json(std::move(params));
            return {ctx_.schedule_activity(kWorkflowSqlActivity, Json(std::move(call)).dump(),
                                           ActivityOptions{std::nullopt, n.tag}),
                    &n, false};
        }
        case NodeKind::Activity:
            return {ctx_.schedule_activity(n.text, to_text(evaluate(n.value, n)), options(n)), &n,
                    false};
        case NodeKind::Http:
            return {ctx_.schedule_activity(kWorkflowHttpActivity, evaluate(n.value, n).dump(),
                                           ActivityOptions{std::nullopt, n.tag}),
                    &n, false};
        case NodeKind::Sleep:
            return {ctx_.schedule_timer(std::chrono::milliseconds(n.duration_ms)), &n, false};
        case NodeKind::WaitEvent:
            return {ctx_.schedule_wait(n.text), &n, false};
        case NodeKind::Dequeue:
            return {ctx_.dequeue_event(n.text), &n, false};
        case NodeKind::SubWorkflow:
            if (n.plugin_orchestration) {
                std::optional<std::string_view> version;
                if (n.version) {
                    version = *n.version;
                }
                return {ctx_.schedule_sub_orchestration(n.text, to_text(evaluate(n.value, n)),
                                                        std::nullopt, version),
                        &n, false};
            }
            return {ctx_.schedule_sub_orchestration(kWorkflowOrchestration, sub_workflow_input(n)),
                    &n, false};
        default:
            throw std::logic_error("not a single-step node");
        }
    }

    // A node that is not a single step runs as a child instance of this interpreter, with
    // a copy of the scope.
    [[gnu::noinline]] Pending start_branch(const Node& n) {
        JsonObject child;
        child["branch"] = Json(true);
        child["definition"] = n.source;
        for (const char* field : {"workflow", "version"}) {
            if (const Json* v = wrapper_.find(field)) {
                child[field] = *v;
            }
        }
        for (const auto& [root, value] : scope()) {
            child[root] = value;
        }
        Pending p{
            ctx_.schedule_sub_orchestration(kWorkflowOrchestration, Json(std::move(child)).dump()),
            &n, true};
        note_scheduled(p.future.id(), n.path, "branch");
        return p;
    }

    Pending start(const Node& n) { return is_leaf(n) ? start_leaf(n) : start_branch(n); }

    // The result of finished work; the names a branch set are merged when `merge`.
    Json finish(const Pending& p, const Outcome& outcome, bool merge) {
        const Node& n = *p.node;
        if (observer) {
            observer->finished(p.future.id(), outcome.ok());
        }
        if (!outcome.ok()) {
            throw WorkflowFailure(outcome.error(), n.path);
        }
        if (p.branch) {
            Json out = from_text(outcome.value());
            if (merge) {
                if (const Json* s = out.find("steps"); s && s->is_object()) {
                    for (const auto& [name, value] : s->as_object()) {
                        steps_object()[name] = value;
                    }
                }
            }
            const Json* r = out.find("result");
            return r ? *r : Json();
        }
        Json result;
        if (n.kind == NodeKind::Sleep || n.kind == NodeKind::WaitForSchedule) {
            result = Json();
        } else {
            result = from_text(outcome.value());
        }
        if (!n.as.empty()) {
            steps_object()[n.as] = result;
        }
        return result;
    }

    Json await_one(const Pending& p, bool merge) { return finish(p, ctx_.await(p.future), merge); }

    [[gnu::noinline]] Json with_timeout(const Node& n) {
        Pending p = start_leaf(n);
        const DurableFuture race[] = {
            p.future, ctx_.schedule_timer(std::chrono::milliseconds(*n.timeout_ms))};
        note_scheduled(race[1].id(), n.path, "timeout");
        if (ctx_.select(race) == 1) {
            throw WorkflowFailure(
                "timeout: " + std::string(n.kind == NodeKind::WaitEvent ? "event \"" : "queue \"") +
                    n.text + "\" had nothing within " + std::to_string(*n.timeout_ms) + " ms",
                n.path);
        }
        return await_one(p, false);
    }

    // sleep {"until": expr}: the recorded clock (utc_now), then a timer for what is left (none
    // when the time has passed).
    [[gnu::noinline]] Json sleep_until(const Node& n) {
        const Json when = evaluate(*n.condition, n);
        const std::optional<std::int64_t> until = timestamp_ms(when);
        if (!until) {
            std::string shown = to_text(when);
            if (shown.size() > 64) {
                shown = shown.substr(0, 64) + "...";
            }
            throw WorkflowFailure("sleep until " + shown +
                                      ": not a timestamp (ISO-8601 text or Unix milliseconds)",
                                  n.path);
        }
        const DurableFuture clock = ctx_.utc_now();
        note_scheduled(clock.id(), n.path, "clock");
        const Outcome now = ctx_.await(clock);
        if (!now.ok()) {
            throw WorkflowFailure(now.error(), n.path);
        }
        const std::int64_t left = *until - std::stoll(now.value());
        Pending p{ctx_.schedule_timer(std::chrono::milliseconds(left > 0 ? left : 0)), &n, false};
        note_scheduled(p.future.id(), n.path, "step");
        return await_one(p, false);
    }

    // wait_for_schedule: the next fire time, computed by a system activity (the zone rules are
    // PostgreSQL's) and recorded; then the recorded clock and a timer for what is left. The
    // node's result is the fire time.
    [[gnu::noinline]] Json wait_for_schedule(const Node& n) {
        JsonObject call;
        call["cron"] = Json(n.text);
        call["timezone"] = n.timezone ? Json(*n.timezone) : Json();
        const DurableFuture next =
            ctx_.schedule_activity(kWorkflowScheduleActivity, Json(std::move(call)).dump());
        note_scheduled(next.id(), n.path, "clock");
        const Outcome fire = ctx_.await(next);
        if (!fire.ok()) {
            throw WorkflowFailure(fire.error(), n.path);
        }
        Json result = from_text(fire.value());
        const Json* at = result.find("fire_at_ms");
        if (at == nullptr || !at->is_int()) {
            throw WorkflowFailure("wait_for_schedule: no fire time in \"" + fire.value() + "\"",
                                  n.path);
        }
        const DurableFuture clock = ctx_.utc_now();
        note_scheduled(clock.id(), n.path, "clock");
        const Outcome now = ctx_.await(clock);
        if (!now.ok()) {
            throw WorkflowFailure(now.error(), n.path);
        }
        const std::int64_t left = at->as_int() - std::stoll(now.value());
        Pending p{ctx_.schedule_timer(std::chrono::milliseconds(left > 0 ? left : 0)), &n, false};
        note_scheduled(p.future.id(), n.path, "step");
        (void)await_one(p, false);
        return result;
    }

    // An activity or http node with `retry`: the engine's retry helper
    // (OrchestrationContext::schedule_activity_with_retry) step by step, with the same calls in
    // the same order, so the same history, but each attempt, attempt timeout and backoff timer
    // told to workflow_progress's observer.
    [[gnu::noinline]] Json with_retry(const Node& n, std::string_view name,
                                      const std::string& input, const ActivityOptions& o) {
        const RetryPolicy p = policy(*n.retry);
        Outcome last = Outcome::failure("no attempt made");
        for (std::uint32_t attempt = 1; attempt <= p.max_attempts(); ++attempt) {
            const DurableFuture call = ctx_.schedule_activity(name, input, o);
            note_scheduled(call.id(), n.path, "step");
            if (p.timeout()) {
                const DurableFuture race[] = {call, ctx_.schedule_timer(*p.timeout())};
                note_scheduled(race[1].id(), n.path, "timeout");
                if (ctx_.select(race) == 1) {
                    last = Outcome::failure("timeout: activity timed out");
                    break;
                }
            }
            last = ctx_.await(call);
            if (observer) {
                observer->finished(call.id(), last.ok());
            }
            if (last.ok() || attempt == p.max_attempts() || is_non_retryable(last)) {
                break;
            }
            const auto delay = p.delay_for_attempt(attempt);
            if (delay.count() > 0) {
                const DurableFuture backoff = ctx_.schedule_timer(delay);
                note_scheduled(backoff.id(), n.path, "backoff");
                (void)ctx_.await(backoff);
            }
        }
        if (!last.ok()) {
            throw WorkflowFailure(last.error(), n.path);
        }
        return from_text(last.value());
    }

    RetryPolicy policy(const RetrySpec& spec) {
        RetryPolicy p(spec.max_attempts);
        const Millis delay(spec.delay_ms), max(spec.max_delay_ms);
        if (spec.backoff == "none") {
            p.with_backoff(NoBackoff{});
        } else if (spec.backoff == "fixed") {
            p.with_backoff(FixedBackoff{delay});
        } else if (spec.backoff == "linear") {
            p.with_backoff(LinearBackoff{delay, max});
        } else {
            p.with_backoff(ExponentialBackoff{delay, spec.multiplier, max});
        }
        if (spec.timeout_ms) {
            p.with_timeout(Millis(*spec.timeout_ms));
        }
        return p;
    }

    [[gnu::noinline]] Json run_try(const Node& n) {
        auto run_finally = [&] {
            if (n.try_finally >= 0) {
                run(n.children[static_cast<std::size_t>(n.try_finally)]);
            }
        };
        Json result;
        try {
            try {
                result = run(n.children[0]);
            } catch (const WorkflowFailure& failure) {
                if (n.try_catch < 0) {
                    throw;
                }
                JsonObject error;
                error["message"] = Json(std::string(failure.what()));
                error["at"] = Json(failure.at);
                const std::optional<Json> saved =
                    scope().count("error") ? std::optional<Json>(scope()["error"]) : std::nullopt;
                scope()["error"] = Json(std::move(error));
                result = run(n.children[static_cast<std::size_t>(n.try_catch)]);
                if (saved) {
                    scope()["error"] = *saved;
                } else {
                    scope().erase("error");
                }
            }
        } catch (const WorkflowFailure&) {
            run_finally();
            throw;
        } catch (const ReturnSignal&) {
            run_finally();
            throw;
        } catch (const BreakSignal&) {
            run_finally();
            throw;
        }
        run_finally();
        return result;
    }

    [[gnu::noinline]] Json run_foreach(const Node& n) {
        const Json items = evaluate(*n.condition, n);
        if (!items.is_array()) {
            throw WorkflowFailure(
                std::string("foreach items must be an array, not ") + type_name(items), n.path);
        }
        const Node& body = n.children[0];
        const auto& list = items.as_array();
        JsonArray results(list.size());
        std::vector<Pending> in_flight;
        std::size_t next = 0, done = 0;
        const std::optional<Json> saved_item =
            scope().count("item") ? std::optional<Json>(scope()["item"]) : std::nullopt;
        const std::optional<Json> saved_index =
            scope().count("index") ? std::optional<Json>(scope()["index"]) : std::nullopt;
        while (done < list.size()) {
            while (next < list.size() && next - done < static_cast<std::size_t>(n.max_in_flight)) {
                scope()["item"] = list[next];
                scope()["index"] = Json(static_cast<std::int64_t>(next));
                in_flight.push_back(start(body));
                ++next;
            }
            const Outcome outcome = ctx_.await(in_flight[done].future);
            if (!outcome.ok()) {
                for (std::size_t i = done + 1; i < next; ++i) {
                    ctx_.cancel(in_flight[i].future);
                }
            }
            results[done] = finish(in_flight[done], outcome, false);
            ++done;
        }
        for (auto [key, saved] : {std::pair{"item", saved_item}, std::pair{"index", saved_index}}) {
            if (saved) {
                scope()[key] = *saved;
            } else {
                scope().erase(key);
            }
        }
        return Json(std::move(results));
    }

    [[gnu::noinline]] Json run_loop(const Node& n, bool root) {
        std::int64_t iteration = root ? resume_iteration_ : 0;
        Json last;
        for (;;) {
            if (n.max_iterations && iteration >= *n.max_iterations) {
                break;
            }
            scope()["iteration"] = Json(iteration);
            if (n.condition && !evaluate(*n.condition, n).truthy()) {
                break;
            }
            try {
                last = run(n.children[0]);
            } catch (const BreakSignal&) {
                break;
            }
            ++iteration;
            if (root && n.continue_as_new_every && iteration % *n.continue_as_new_every == 0) {
                JsonObject next = wrapper_.as_object();
                JsonObject resume;
                resume["iteration"] = Json(iteration);
                resume["steps"] = scope()["steps"];
                next["resume"] = Json(std::move(resume));
                ctx_.continue_as_new(Json(std::move(next)).dump());
            }
        }
        scope().erase("iteration");
        return last;
    }

    [[gnu::noinline]] Json run_parallel(const Node& n) {
        std::vector<Pending> started;
        for (const auto& branch : n.children) {
            started.push_back(start(branch));
        }
        JsonArray results;
        std::optional<WorkflowFailure> first;
        for (const auto& p : started) {
            try {
                results.push_back(await_one(p, true));
            } catch (const WorkflowFailure& f) {
                results.emplace_back();
                if (!first) {
                    first = f;
                }
            }
        }
        if (first) {
            throw *first;
        }
        return Json(std::move(results));
    }

    [[gnu::noinline]] Json run_race(const Node& n) {
        std::vector<Pending> started;
        std::vector<DurableFuture> futures;
        for (const auto& branch : n.children) {
            started.push_back(start(branch));
            futures.push_back(started.back().future);
        }
        const std::size_t winner = ctx_.select(futures);
        JsonObject result;
        result["index"] = Json(static_cast<std::int64_t>(winner));
        result["result"] = await_one(started[winner], false);
        return Json(std::move(result));
    }

    Json exec(const Node& n) {
        switch (n.kind) {
        case NodeKind::Seq: {
            Json last;
            for (const auto& step : n.children) {
                last = run(step);
            }
            return last;
        }
        case NodeKind::Sleep:
            return n.condition ? sleep_until(n) : await_one(start_leaf(n), false);
        case NodeKind::WaitForSchedule:
            return wait_for_schedule(n);
        case NodeKind::Sql:
        case NodeKind::SubWorkflow:
            return await_one(start_leaf(n), false);
        case NodeKind::Activity: {
            if (!n.retry) {
                return await_one(start_leaf(n), false);
            }
            return with_retry(n, n.text, to_text(evaluate(n.value, n)), options(n));
        }
        case NodeKind::Http: {
            if (!n.retry) {
                return await_one(start_leaf(n), false);
            }
            return with_retry(n, kWorkflowHttpActivity, evaluate(n.value, n).dump(),
                              ActivityOptions{std::nullopt, n.tag});
        }
        case NodeKind::WaitEvent:
        case NodeKind::Dequeue:
            return n.timeout_ms ? with_timeout(n) : await_one(start_leaf(n), false);
        case NodeKind::Parallel:
            return run_parallel(n);
        case NodeKind::Race:
            return run_race(n);
        case NodeKind::If:
            if (evaluate(*n.condition, n).truthy()) {
                return run(n.children[0]);
            }
            return n.has_else ? run(n.children[1]) : Json();
        case NodeKind::Switch: {
            const Json value = evaluate(*n.condition, n);
            for (std::size_t i = 0; i < n.cases.size(); ++i) {
                if (n.cases[i] == value) {
                    return run(n.children[i]);
                }
            }
            return n.has_else ? run(n.children.back()) : Json();
        }
        case NodeKind::SetStatus: {
            Json value = evaluate(n.value, n);
            ctx_.set_custom_status(to_text(value));
            return value;
        }
        case NodeKind::KvSet: {
            Json value = evaluate(n.value, n);
            ctx_.set_kv_value(n.text, to_text(value));
            return value;
        }
        case NodeKind::Fail:
            throw WorkflowFailure(to_text(evaluate(n.value, n)), n.path);
        case NodeKind::Return:
            throw ReturnSignal{evaluate(n.value, n)};
        case NodeKind::Break:
            throw BreakSignal{};
        case NodeKind::Try:
            return run_try(n);
        case NodeKind::Foreach:
            return run_foreach(n);
        case NodeKind::Loop:
            return run_loop(n, n.path == "$" && !wrapper_.find("branch"));
        }
        return Json();
    }

    OrchestrationContext& ctx_;
    Json& wrapper_;
    Json scope_;
    std::int64_t resume_iteration_ = 0;
};

} // namespace

ScheduleObserver* set_schedule_observer(ScheduleObserver* next) {
    ScheduleObserver* previous = observer;
    observer = next;
    return previous;
}

ValidationContext validation_context_of(const Json& wrapper) {
    ValidationContext context;
    if (const Json* s = wrapper.find("steps"); s && s->is_object()) {
        for (const auto& [name, value] : s->as_object()) {
            context.visible_steps.insert(name);
        }
    }
    context.in_foreach = wrapper.find("item") != nullptr;
    context.in_catch = wrapper.find("error") != nullptr;
    context.in_loop = wrapper.find("iteration") != nullptr;
    context.root = !(wrapper.find("branch") && wrapper.find("branch")->truthy());
    return context;
}

std::string run_workflow(OrchestrationContext& ctx, const std::string& input) {
    Json wrapper;
    try {
        wrapper = Json::parse(input);
    } catch (const JsonError& e) {
        throw std::invalid_argument(std::string("workflow input: ") + e.what());
    }
    if (!wrapper.is_object()) {
        throw std::invalid_argument("workflow input must be a JSON object");
    }
    if (!wrapper.find("definition")) {
        // A sub_workflow by name: the definition is read once, by a recorded activity.
        JsonObject request;
        request["workflow"] = wrapper.find("workflow") ? *wrapper.find("workflow") : Json();
        request["version"] = wrapper.find("version") ? *wrapper.find("version") : Json();
        const DurableFuture load =
            ctx.schedule_activity(kWorkflowDefinitionActivity, Json(std::move(request)).dump());
        note_scheduled(load.id(), "$", "definition");
        const Outcome loaded = load.get();
        if (!loaded.ok()) {
            throw std::runtime_error(loaded.error());
        }
        Json definition = Json::parse(loaded.value());
        for (const char* field : {"definition", "version"}) {
            if (const Json* v = definition.find(field)) {
                wrapper.as_object()[field] = *v;
            }
        }
    }
    const bool branch = wrapper.find("branch") && wrapper.find("branch")->truthy();
    const ValidationContext context = validation_context_of(wrapper);
    const Node root = [&] {
        try {
            return parse_definition(*wrapper.find("definition"), context);
        } catch (const DefinitionError& e) {
            throw std::invalid_argument(std::string("invalid workflow definition: ") + e.what());
        }
    }();
    Interpreter interpreter(ctx, wrapper);
    Json result;
    try {
        result = interpreter.run_root(root);
    } catch (const ReturnSignal& r) {
        result = r.value;
    } catch (const WorkflowFailure& f) {
        throw std::runtime_error(f.what());
    }
    if (!branch) {
        return result.dump();
    }
    JsonObject out;
    out["result"] = std::move(result);
    out["steps"] = interpreter.steps();
    return Json(std::move(out)).dump();
}

} // namespace duroxide::core::workflow
