#include "core/workflow/definition.hpp"

#include "core/schedule/cron.hpp"
#include "core/workflow/definition_fields.hpp"
#include "core/workflow/definition_http.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <utility>

namespace duroxide::core::workflow {

using namespace fields;

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
        {"http_multipart",
         {NodeKind::Http,
          {"method", "url", "headers", "parts", "timeout", "expect_status", "retry", "tag"}}},
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
        switch (n.kind) {
        case NodeKind::Seq:
        case NodeKind::Parallel:
        case NodeKind::Race:
        case NodeKind::Break:
            build_flow(n, json, path, ctx, depth);
            break;
        case NodeKind::If:
        case NodeKind::Switch:
            build_branch(n, json, path, ctx, depth);
            break;
        case NodeKind::Try:
            build_block(n, json, path, ctx, depth);
            break;
        case NodeKind::Foreach:
        case NodeKind::Loop:
            build_loop(n, json, path, ctx, depth);
            break;
        default:
            build_step(n, json, path, ctx);
            break;
        }
    }

    // Sequences, joins, races and break.
    [[gnu::noinline]] void build_flow(Node& n, const Json& json, const std::string& path,
                                      ValidationContext& ctx, int depth) {
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
        default:
            break;
        }
    }

    // try: a body with catch and finally.
    [[gnu::noinline]] void build_block(Node& n, const Json& json, const std::string& path,
                                       ValidationContext& ctx, int depth) {
        auto opt = [&json](const char* field) { return json.find(field); };
        switch (n.kind) {
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
        default:
            break;
        }
    }

    // if, if_rows and switch.
    [[gnu::noinline]] void build_branch(Node& n, const Json& json, const std::string& path,
                                        ValidationContext& ctx, int depth) {
        auto opt = [&json](const char* field) { return json.find(field); };
        switch (n.kind) {
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
        default:
            break;
        }
    }

    // foreach, loop and while: a body run again and again.
    [[gnu::noinline]] void build_loop(Node& n, const Json& json, const std::string& path,
                                      ValidationContext& ctx, int depth) {
        auto opt = [&json](const char* field) { return json.find(field); };
        switch (n.kind) {
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
        default:
            break;
        }
    }

    // The steps: nodes that do one thing (and have no child node).
    [[gnu::noinline]] void build_step(Node& n, const Json& json, const std::string& path,
                                      ValidationContext& ctx) {
        auto opt = [&json](const char* field) { return json.find(field); };
        switch (n.kind) {
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
        case NodeKind::Http:
            parse_http_node(n, json, path, ctx);
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
        default:
            break;
        }
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
