#include "core/workflow/definition.hpp"

#include "core/schedule/cron.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <utility>

namespace duroxide::core::workflow {

namespace {

struct KindInfo {
    NodeKind kind;
    std::set<std::string, std::less<>> fields; // besides kind, as, comment
};

const std::map<std::string, KindInfo, std::less<>>& kinds() {
    static const std::map<std::string, KindInfo, std::less<>> table = {
        {"seq", {NodeKind::Seq, {"steps"}}},
        {"sql", {NodeKind::Sql, {"query", "params", "tag"}}},
        {"activity", {NodeKind::Activity, {"name", "input", "retry", "timeout", "tag", "session"}}},
        {"parallel", {NodeKind::Parallel, {"branches"}}},
        {"race", {NodeKind::Race, {"branches"}}},
        {"if", {NodeKind::If, {"condition", "then", "else"}}},
        // Sugar: an `if` whose condition is "the named sql result has rows".
        {"if_rows", {NodeKind::If, {"step", "then", "else"}}},
        {"switch", {NodeKind::Switch, {"value", "cases", "default"}}},
        {"sleep", {NodeKind::Sleep, {"duration", "until"}}},
        {"wait_event", {NodeKind::WaitEvent, {"event", "timeout"}}},
        {"set_status", {NodeKind::SetStatus, {"value"}}},
        {"fail", {NodeKind::Fail, {"message"}}},
        {"return", {NodeKind::Return, {"value"}}},
        {"try", {NodeKind::Try, {"body", "catch", "finally"}}},
        {"foreach", {NodeKind::Foreach, {"items", "body", "max_in_flight"}}},
        {"loop", {NodeKind::Loop, {"body", "while", "max_iterations", "continue_as_new_every"}}},
        {"while",
         {NodeKind::Loop, {"condition", "body", "max_iterations", "continue_as_new_every"}}},
        {"dequeue", {NodeKind::Dequeue, {"queue", "timeout"}}},
        {"sub_workflow",
         {NodeKind::SubWorkflow, {"workflow", "orchestration", "version", "input"}}},
        {"kv_set", {NodeKind::KvSet, {"key", "value"}}},
        {"break", {NodeKind::Break, {}}},
        {"wait_for_schedule", {NodeKind::WaitForSchedule, {"cron", "timezone"}}},
        {"http",
         {NodeKind::Http,
          {"method", "url", "headers", "body", "timeout", "expect_status", "retry", "tag"}}},
    };
    return table;
}

class Validator {
public:
    // The names given from outside were checked for duplicates by the parent's validation
    // (a loop may run a branch again with its names already set).
    Validator() = default;

    // Fills `n` in place (nodes are large; building them in their parent's vector keeps the
    // recursion's frames small on a fiber stack).
    void node(const Json& json, const std::string& path, ValidationContext& ctx, int depth,
              Node& n) {
        if (depth > kMaxNodeDepth) {
            throw DefinitionError(path, "nodes nest deeper than " + std::to_string(kMaxNodeDepth) +
                                            " levels");
        }
        if (!json.is_object()) {
            throw DefinitionError(path, std::string("a node must be a JSON object, not ") +
                                            type_name(json));
        }
        const Json* kind = json.find("kind");
        if (kind == nullptr) {
            throw DefinitionError(path, "missing field \"kind\"");
        }
        if (!kind->is_string()) {
            throw DefinitionError(path + ".kind", "must be a string");
        }
        auto info = kinds().find(kind->as_string());
        if (info == kinds().end()) {
            throw DefinitionError(path + ".kind",
                                  "unknown kind \"" + truncated(kind->as_string()) + "\"");
        }
        for (const auto& [field, value] : json.as_object()) {
            if (field != "kind" && field != "as" && field != "comment" &&
                info->second.fields.count(field) == 0) {
                throw DefinitionError(path + "." + field,
                                      "unknown field of a " + kind->as_string() + " node");
            }
        }
        n.kind = info->second.kind;
        n.path = path;
        n.source = json;
        if (const Json* as = json.find("as")) {
            n.as = name_field(*as, path + ".as");
            if (!names_.insert(n.as).second) {
                throw DefinitionError(path + ".as", "duplicate step name \"" + n.as + "\"");
            }
        }
        build(n, json, path, ctx, depth);
        if (!n.as.empty()) {
            ctx.visible_steps.insert(n.as);
        }
    }

private:
    static std::string truncated(const std::string& s) {
        return s.size() > 64 ? s.substr(0, 64) + "..." : s;
    }
    static const Json& required(const Json& json, const std::string& field,
                                const std::string& path) {
        const Json* v = json.find(field);
        if (v == nullptr) {
            throw DefinitionError(path, "missing field \"" + field + "\"");
        }
        return *v;
    }
    static std::string string_field(const Json& v, const std::string& path) {
        if (!v.is_string()) {
            throw DefinitionError(path, std::string("must be a string, not ") + type_name(v));
        }
        return v.as_string();
    }
    static std::string name_field(const Json& v, const std::string& path) {
        std::string s = string_field(v, path);
        if (s.empty() || s.size() > 128) {
            throw DefinitionError(path, "must be 1 to 128 characters");
        }
        for (char c : s) {
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
                throw DefinitionError(path, "must contain only letters, digits and '_' (got \"" +
                                                truncated(s) + "\")");
            }
        }
        return s;
    }
    static std::int64_t interval_field(const Json& v, const std::string& path) {
        try {
            if (v.is_int()) {
                return parse_interval_ms(std::to_string(v.as_int()));
            }
            return parse_interval_ms(string_field(v, path));
        } catch (const std::invalid_argument& e) {
            throw DefinitionError(path, e.what());
        }
    }
    static std::int64_t positive_int(const Json& v, const std::string& path, std::int64_t max) {
        if (!v.is_int() || v.as_int() < 1 || v.as_int() > max) {
            throw DefinitionError(path, "must be an integer from 1 to " + std::to_string(max));
        }
        return v.as_int();
    }

    // Parses an expression and checks what it reads can exist here.
    Expression expression(const std::string& text, const std::string& path,
                          const ValidationContext& ctx) {
        Expression e = [&] {
            try {
                return Expression::parse(text);
            } catch (const ExpressionError& err) {
                throw DefinitionError(path, std::string("bad expression: ") + err.what());
            }
        }();
        for (const auto& ref : e.references()) {
            check_reference(ref, path, ctx);
        }
        return e;
    }
    void check_reference(const ExpressionReference& ref, const std::string& path,
                         const ValidationContext& ctx) const {
        if (ref.root == "input" || ref.root.empty()) {
            return;
        }
        if (ref.root == "steps") {
            if (!ref.step.empty() && ctx.visible_steps.count(ref.step) == 0) {
                throw DefinitionError(
                    path, "refers to step \"" + truncated(ref.step) +
                              "\", whose result cannot exist here (no earlier step, or one "
                              "inside a branch, body or catch that may not have run, has that "
                              "\"as\")");
            }
            return;
        }
        const bool allowed = ((ref.root == "item" || ref.root == "index") && ctx.in_foreach) ||
                             (ref.root == "error" && ctx.in_catch) ||
                             (ref.root == "iteration" && ctx.in_loop);
        if (!allowed) {
            const bool known = ref.root == "item" || ref.root == "index" || ref.root == "error" ||
                               ref.root == "iteration";
            throw DefinitionError(path, known ? "$" + ref.root + " exists only inside " +
                                                    (ref.root == "error"       ? "a catch"
                                                     : ref.root == "iteration" ? "a loop body"
                                                                               : "a foreach body")
                                              : "unknown root \"$" + truncated(ref.root) +
                                                    "\" (input, steps, item, index, error or "
                                                    "iteration)");
        }
    }
    Json value_template(const Json& v, const std::string& path, const ValidationContext& ctx) {
        try {
            for_each_template_expression(v, path,
                                         [&](const std::string& text, const std::string& at) {
                                             (void)expression(text, at, ctx);
                                         });
        } catch (const ExpressionError& e) {
            throw DefinitionError(path, e.what());
        }
        return v;
    }
    // The cron expression is checked here (core/schedule/cron.hpp); the time zone's name only
    // by its form: whether PostgreSQL knows it is checked by duroxide._validate_workflow.
    static void wait_for_schedule(Node& n, const Json& json, const std::string& path) {
        n.text = string_field(required(json, "cron", path), path + ".cron");
        if (n.text.size() > 256) {
            throw DefinitionError(path + ".cron", "must be at most 256 characters");
        }
        try {
            (void)schedule::CronSchedule::parse(n.text);
        } catch (const schedule::CronError& e) {
            throw DefinitionError(path + ".cron", std::string("bad cron expression: ") + e.what());
        }
        const Json* zone = json.find("timezone");
        if (zone == nullptr || zone->is_null()) {
            return;
        }
        n.timezone = string_field(*zone, path + ".timezone");
        const bool ok = !n.timezone->empty() && n.timezone->size() <= 64 &&
                        std::all_of(n.timezone->begin(), n.timezone->end(), [](char c) {
                            return std::isalnum(static_cast<unsigned char>(c)) || c == '/' ||
                                   c == '_' || c == '+' || c == '-';
                        });
        if (!ok) {
            throw DefinitionError(path + ".timezone",
                                  "\"" + truncated(*n.timezone) +
                                      "\" is not a time zone name (such as \"Europe/Paris\" "
                                      "or \"UTC\")");
        }
    }
    [[gnu::noinline]] void child(const Json& json, const std::string& path, ValidationContext ctx,
                                 int depth, std::vector<Node>& into) {
        ctx.root = false;
        into.emplace_back();
        node(json, path, ctx, depth + 1, into.back());
    }
    std::vector<Node> list(const Json& json, const std::string& field, const std::string& path,
                           ValidationContext& ctx, int depth, bool shared_scope,
                           std::set<std::string>* added = nullptr) {
        const Json& items = required(json, field, path);
        if (!items.is_array() || items.as_array().empty()) {
            throw DefinitionError(path + "." + field, "must be a non-empty array of nodes");
        }
        std::vector<Node> out;
        for (std::size_t i = 0; i < items.as_array().size(); ++i) {
            const std::string at = path + "." + field + "[" + std::to_string(i) + "]";
            if (shared_scope) {
                ValidationContext inner = ctx;
                inner.root = false;
                out.emplace_back();
                node(items.as_array()[i], at, inner, depth + 1, out.back());
                ctx.visible_steps = inner.visible_steps;
            } else {
                ValidationContext inner = ctx;
                inner.root = false;
                out.emplace_back();
                node(items.as_array()[i], at, inner, depth + 1, out.back());
                if (added) {
                    for (const auto& name : inner.visible_steps) {
                        added->insert(name);
                    }
                }
            }
        }
        return out;
    }

    void build(Node& n, const Json& json, const std::string& path, ValidationContext& ctx,
               int depth) {
        auto opt = [&json](const char* field) { return json.find(field); };
        switch (n.kind) {
        case NodeKind::Seq:
            // Names of a sequence's steps stay visible after it.
            n.children = list(json, "steps", path, ctx, depth, true);
            break;
        case NodeKind::Parallel: {
            // Every branch of a join has run afterwards: their names are visible after it.
            std::set<std::string> added;
            const bool could_break = std::exchange(ctx.can_break, false);
            n.children = list(json, "branches", path, ctx, depth, false, &added);
            ctx.can_break = could_break;
            ctx.visible_steps.insert(added.begin(), added.end());
            break;
        }
        case NodeKind::Race: {
            const bool could_break = std::exchange(ctx.can_break, false);
            n.children = list(json, "branches", path, ctx, depth, false);
            ctx.can_break = could_break;
            break;
        }
        case NodeKind::Break:
            if (!ctx.can_break) {
                throw DefinitionError(path, "break is allowed only inside a loop body (and not "
                                            "inside a parallel, race or foreach branch there)");
            }
            break;
        case NodeKind::Sql: {
            n.text = string_field(required(json, "query", path), path + ".query");
            if (n.text.empty()) {
                throw DefinitionError(path + ".query", "must not be empty");
            }
            if (const Json* p = opt("params")) {
                if (!p->is_array()) {
                    throw DefinitionError(path + ".params", "must be an array");
                }
                n.value = value_template(*p, path + ".params", ctx);
            } else {
                n.value = Json(JsonArray{});
            }
            if (const Json* t = opt("tag")) {
                n.tag = string_field(*t, path + ".tag");
            }
            break;
        }
        case NodeKind::Activity: {
            n.text = string_field(required(json, "name", path), path + ".name");
            if (n.text.empty()) {
                throw DefinitionError(path + ".name", "must not be empty");
            }
            n.value = opt("input") ? value_template(*opt("input"), path + ".input", ctx) : Json("");
            if (const Json* t = opt("tag")) {
                n.tag = string_field(*t, path + ".tag");
            }
            if (const Json* s = opt("session")) {
                n.session = string_field(*s, path + ".session");
                value_template(*s, path + ".session", ctx);
            }
            if (const Json* r = opt("retry")) {
                n.retry = retry(*r, path + ".retry");
            }
            if (const Json* t = opt("timeout")) {
                if (!n.retry) {
                    n.retry = RetrySpec{};
                }
                n.retry->timeout_ms = interval_field(*t, path + ".timeout");
            }
            break;
        }
        case NodeKind::If:
            if (string_field(*json.find("kind"), path) == "if_rows") {
                const std::string step = name_field(required(json, "step", path), path + ".step");
                n.condition = expression("$steps." + step + ".row_count > 0", path + ".step", ctx);
            } else {
                n.condition =
                    expression(string_field(required(json, "condition", path), path + ".condition"),
                               path + ".condition", ctx);
            }
            child(required(json, "then", path), path + ".then", ctx, depth, n.children);
            if (const Json* e = opt("else")) {
                child(*e, path + ".else", ctx, depth, n.children);
                n.has_else = true;
            }
            break;
        case NodeKind::Switch: {
            n.condition = expression(string_field(required(json, "value", path), path + ".value"),
                                     path + ".value", ctx);
            const Json& cases = required(json, "cases", path);
            if (!cases.is_array() || cases.as_array().empty()) {
                throw DefinitionError(path + ".cases", "must be a non-empty array");
            }
            for (std::size_t i = 0; i < cases.as_array().size(); ++i) {
                const std::string at = path + ".cases[" + std::to_string(i) + "]";
                const Json& c = cases.as_array()[i];
                if (!c.is_object() || c.as_object().size() != 2 || !c.find("when") ||
                    !c.find("do")) {
                    throw DefinitionError(at, "a case must be {\"when\": value, \"do\": node}");
                }
                n.cases.push_back(*c.find("when"));
                child(*c.find("do"), at + ".do", ctx, depth, n.children);
            }
            if (const Json* d = opt("default")) {
                child(*d, path + ".default", ctx, depth, n.children);
                n.has_else = true;
            }
            break;
        }
        case NodeKind::Sleep:
            // Either an interval, or `until`: an expression giving a timestamp (sleep_until).
            if (const Json* until = opt("until")) {
                if (opt("duration")) {
                    throw DefinitionError(path, "a sleep has \"duration\" or \"until\", not both");
                }
                n.condition =
                    expression(string_field(*until, path + ".until"), path + ".until", ctx);
                break;
            }
            n.duration_ms = interval_field(required(json, "duration", path), path + ".duration");
            break;
        case NodeKind::WaitForSchedule:
            wait_for_schedule(n, json, path);
            break;
        case NodeKind::WaitEvent:
            n.text = name_field(required(json, "event", path), path + ".event");
            if (const Json* t = opt("timeout")) {
                n.timeout_ms = interval_field(*t, path + ".timeout");
            }
            break;
        case NodeKind::Dequeue:
            n.text = name_field(required(json, "queue", path), path + ".queue");
            if (const Json* t = opt("timeout")) {
                n.timeout_ms = interval_field(*t, path + ".timeout");
            }
            break;
        case NodeKind::SetStatus:
        case NodeKind::Return:
            n.value = value_template(required(json, "value", path), path + ".value", ctx);
            break;
        case NodeKind::Fail:
            n.value = value_template(required(json, "message", path), path + ".message", ctx);
            break;
        case NodeKind::KvSet:
            n.text = string_field(required(json, "key", path), path + ".key");
            if (n.text.empty() || n.text.size() > 1024) {
                throw DefinitionError(path + ".key", "must be 1 to 1024 bytes");
            }
            n.value = value_template(required(json, "value", path), path + ".value", ctx);
            break;
        case NodeKind::Try: {
            child(required(json, "body", path), path + ".body", ctx, depth, n.children);
            if (const Json* c = opt("catch")) {
                ValidationContext inner = ctx;
                inner.in_catch = true;
                n.try_catch = static_cast<int>(n.children.size());
                child(*c, path + ".catch", inner, depth, n.children);
            }
            if (const Json* f = opt("finally")) {
                n.try_finally = static_cast<int>(n.children.size());
                child(*f, path + ".finally", ctx, depth, n.children);
            }
            if (n.try_catch < 0 && n.try_finally < 0) {
                throw DefinitionError(path, "a try needs \"catch\" or \"finally\"");
            }
            break;
        }
        case NodeKind::Foreach: {
            n.condition = expression(string_field(required(json, "items", path), path + ".items"),
                                     path + ".items", ctx);
            if (const Json* m = opt("max_in_flight")) {
                n.max_in_flight = positive_int(*m, path + ".max_in_flight", kMaxForeachInFlight);
            }
            ValidationContext inner = ctx;
            inner.in_foreach = true;
            inner.can_break = false;
            child(required(json, "body", path), path + ".body", inner, depth, n.children);
            break;
        }
        case NodeKind::Loop: {
            ValidationContext inner = ctx;
            inner.in_loop = true;
            inner.can_break = true;
            const char* cond_field = json.find("condition") ? "condition" : "while";
            if (const Json* c = opt(cond_field)) {
                n.condition = expression(string_field(*c, path + "." + cond_field),
                                         path + "." + cond_field, inner);
            } else if (string_field(*json.find("kind"), path) == "while") {
                throw DefinitionError(path, "missing field \"condition\"");
            }
            if (const Json* m = opt("max_iterations")) {
                n.max_iterations = positive_int(*m, path + ".max_iterations", INT64_MAX);
            }
            if (const Json* e = opt("continue_as_new_every")) {
                if (!ctx.root) {
                    throw DefinitionError(path + ".continue_as_new_every",
                                          "allowed only on a loop that is the whole definition");
                }
                n.continue_as_new_every = positive_int(*e, path + ".continue_as_new_every", 100000);
            }
            child(required(json, "body", path), path + ".body", inner, depth, n.children);
            break;
        }
        case NodeKind::Http:
            http(n, json, path, ctx);
            break;
        case NodeKind::SubWorkflow: {
            const Json* w = opt("workflow");
            const Json* o = opt("orchestration");
            if ((w == nullptr) == (o == nullptr)) {
                throw DefinitionError(path,
                                      "needs exactly one of \"workflow\" and \"orchestration\"");
            }
            n.plugin_orchestration = o != nullptr;
            n.text = string_field(w ? *w : *o, path + (w ? ".workflow" : ".orchestration"));
            if (n.text.empty()) {
                throw DefinitionError(path + (w ? ".workflow" : ".orchestration"),
                                      "must not be empty");
            }
            if (const Json* v = opt("version")) {
                n.version = string_field(*v, path + ".version");
            }
            n.value = opt("input") ? value_template(*opt("input"), path + ".input", ctx) : Json();
            break;
        }
        }
    }

    // An http node's request template: {"method", "url", "headers", "body", "timeout_ms",
    // "expect": [[from, to], ...]} (url, header values and body may be expressions).
    [[gnu::noinline]] void http(Node& n, const Json& json, const std::string& path,
                                const ValidationContext& ctx) {
        JsonObject call;
        std::string method = "GET";
        if (const Json* m = json.find("method")) {
            method = string_field(*m, path + ".method");
            static const std::set<std::string> methods = {"GET",   "HEAD",   "POST",   "PUT",
                                                          "PATCH", "DELETE", "OPTIONS"};
            if (methods.count(method) == 0) {
                throw DefinitionError(path + ".method",
                                      "must be GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS "
                                      "(got \"" +
                                          truncated(method) + "\")");
            }
        }
        call["method"] = Json(method);
        const Json& url = required(json, "url", path);
        if (!url.is_string() || url.as_string().empty()) {
            throw DefinitionError(path + ".url", "must be a non-empty string");
        }
        if (!is_expression_string(url.as_string()) && !url.as_string().starts_with("http://") &&
            !url.as_string().starts_with("https://")) {
            throw DefinitionError(path + ".url", "must start with http:// or https:// (got \"" +
                                                     truncated(url.as_string()) + "\")");
        }
        call["url"] = value_template(url, path + ".url", ctx);
        if (const Json* h = json.find("headers")) {
            if (!h->is_object()) {
                throw DefinitionError(path + ".headers", "must be an object of header values");
            }
            for (const auto& [name, value] : h->as_object()) {
                if (name.empty() || name.find_first_of(":\r\n ") != std::string::npos) {
                    throw DefinitionError(path + ".headers",
                                          "bad header name \"" + truncated(name) + "\"");
                }
                (void)value;
            }
            call["headers"] = value_template(*h, path + ".headers", ctx);
        } else {
            call["headers"] = Json(JsonObject{});
        }
        if (const Json* b = json.find("body")) {
            call["body"] = value_template(*b, path + ".body", ctx);
        }
        std::int64_t timeout = kDefaultHttpTimeoutMs;
        if (const Json* t = json.find("timeout")) {
            timeout = interval_field(*t, path + ".timeout");
            if (timeout < 1) {
                throw DefinitionError(path + ".timeout", "must be at least 1 ms");
            }
        }
        call["timeout_ms"] = Json(timeout);
        call["expect"] = expect_status(json.find("expect_status"), path + ".expect_status");
        if (const Json* r = json.find("retry")) {
            n.retry = retry(*r, path + ".retry");
        }
        if (const Json* t = json.find("tag")) {
            n.tag = string_field(*t, path + ".tag");
        }
        n.value = Json(std::move(call));
    }

    // expect_status: a status, an array of statuses and "from-to" ranges, or a range alone
    // ("200-299", the default).
    [[gnu::noinline]] static Json expect_status(const Json* v, const std::string& path) {
        JsonArray ranges;
        auto status = [&path](std::int64_t s) {
            if (s < 100 || s > 599) {
                throw DefinitionError(path, "a status must be from 100 to 599");
            }
            return s;
        };
        auto add = [&](const Json& e) {
            if (e.is_int()) {
                const std::int64_t s = status(e.as_int());
                ranges.push_back(Json(JsonArray{Json(s), Json(s)}));
                return;
            }
            if (e.is_string()) {
                const std::string& text = e.as_string();
                const auto dash = text.find('-');
                try {
                    std::size_t used = 0;
                    if (dash != std::string::npos && dash > 0) {
                        const std::int64_t from = status(std::stoll(text.substr(0, dash), &used));
                        if (used == dash) {
                            const std::string rest = text.substr(dash + 1);
                            const std::int64_t to = status(std::stoll(rest, &used));
                            if (used == rest.size() && from <= to) {
                                ranges.push_back(Json(JsonArray{Json(from), Json(to)}));
                                return;
                            }
                        }
                    }
                } catch (const std::logic_error&) {
                }
            }
            throw DefinitionError(path, "must be a status (200), a range (\"200-299\") or an "
                                        "array of those");
        };
        if (v == nullptr) {
            ranges.push_back(Json(JsonArray{Json(std::int64_t{200}), Json(std::int64_t{299})}));
        } else if (v->is_array()) {
            if (v->as_array().empty()) {
                throw DefinitionError(path, "must not be empty");
            }
            for (const auto& e : v->as_array()) {
                add(e);
            }
        } else {
            add(*v);
        }
        return Json(std::move(ranges));
    }

    RetrySpec retry(const Json& r, const std::string& path) {
        if (!r.is_object()) {
            throw DefinitionError(path, "must be an object");
        }
        RetrySpec spec;
        for (const auto& [field, v] : r.as_object()) {
            const std::string at = path + "." + field;
            if (field == "max_attempts") {
                spec.max_attempts = static_cast<std::uint32_t>(positive_int(v, at, 100));
            } else if (field == "backoff") {
                spec.backoff = string_field(v, at);
                if (spec.backoff != "none" && spec.backoff != "fixed" && spec.backoff != "linear" &&
                    spec.backoff != "exponential") {
                    throw DefinitionError(at, "must be none, fixed, linear or exponential");
                }
            } else if (field == "delay") {
                spec.delay_ms = interval_field(v, at);
            } else if (field == "max_delay") {
                spec.max_delay_ms = interval_field(v, at);
            } else if (field == "multiplier") {
                if (!v.is_number() || !(v.as_double() >= 1.0) || v.as_double() > 100.0) {
                    throw DefinitionError(at, "must be a number from 1 to 100");
                }
                spec.multiplier = v.as_double();
            } else if (field == "timeout") {
                spec.timeout_ms = interval_field(v, at);
            } else {
                throw DefinitionError(at, "unknown field of a retry policy");
            }
        }
        if (r.find("backoff") == nullptr) {
            spec.backoff = "exponential";
        }
        return spec;
    }

    std::set<std::string> names_; // every "as" of the definition (and those given from outside)
};

} // namespace

Node parse_definition(const Json& definition, const ValidationContext& context) {
    Validator validator;
    ValidationContext ctx = context;
    Node root;
    validator.node(definition, "$", ctx, 1, root);
    return root;
}

Node parse_definition_text(std::string_view text, const ValidationContext& context) {
    if (text.size() > kMaxDefinitionBytes) {
        throw DefinitionError("$", "definition larger than " +
                                       std::to_string(kMaxDefinitionBytes / 1024) + " kB");
    }
    Json json;
    try {
        json = Json::parse(text, 4 * kMaxNodeDepth);
    } catch (const JsonError& e) {
        throw DefinitionError("$", e.what());
    }
    return parse_definition(json, context);
}

std::int64_t parse_interval_ms(std::string_view text) {
    const std::string original(text);
    auto bad = [&original](const std::string& why) {
        return std::invalid_argument(
            "bad interval \"" + (original.size() > 64 ? original.substr(0, 64) + "..." : original) +
            "\": " + why);
    };
    double total = 0;
    std::size_t i = 0, parts = 0;
    auto space = [&] {
        while (i < text.size() && text[i] == ' ') {
            ++i;
        }
    };
    space();
    while (i < text.size()) {
        const std::size_t start = i;
        while (i < text.size() &&
               (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
            ++i;
        }
        if (start == i || i - start > 15) {
            throw bad("a number expected");
        }
        double number;
        try {
            number = std::stod(std::string(text.substr(start, i - start)));
        } catch (const std::logic_error&) {
            throw bad("a number expected");
        }
        space();
        const std::size_t unit_start = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) {
            ++i;
        }
        const std::string unit(text.substr(unit_start, i - unit_start));
        double scale;
        if (unit.empty() && parts == 0 && i == text.size()) {
            scale = 1; // a bare number is milliseconds
        } else if (unit == "ms" || unit == "millisecond" || unit == "milliseconds") {
            scale = 1;
        } else if (unit == "s" || unit == "sec" || unit == "second" || unit == "seconds") {
            scale = 1000;
        } else if (unit == "min" || unit == "minute" || unit == "minutes" || unit == "m") {
            scale = 60'000;
        } else if (unit == "h" || unit == "hour" || unit == "hours") {
            scale = 3'600'000;
        } else if (unit == "d" || unit == "day" || unit == "days") {
            scale = 86'400'000;
        } else {
            throw bad(unit.empty() ? "a unit expected (ms, s, min, h, day)"
                                   : "unknown unit \"" + unit + "\"");
        }
        total += number * scale;
        ++parts;
        space();
    }
    if (parts == 0) {
        throw bad("empty");
    }
    if (!(total <= static_cast<double>(kMaxIntervalMs))) {
        throw bad("longer than 366 days");
    }
    return static_cast<std::int64_t>(std::llround(total));
}

const char* kind_name(NodeKind kind) {
    for (const auto& [name, info] : kinds()) {
        if (info.kind == kind && name != "while") {
            return name.c_str();
        }
    }
    return "?";
}

} // namespace duroxide::core::workflow
