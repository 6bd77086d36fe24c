// The field checks shared by every node kind's validation (definition_fields.hpp).
#include "core/workflow/definition_fields.hpp"

#include <cctype>

namespace duroxide::core::workflow::fields {

namespace {

void check_reference(const ExpressionReference& ref, const std::string& path,
                     const ValidationContext& ctx) {
    if (ref.root == "input" || ref.root == "vars" || ref.root.empty()) {
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
                                                "\" (input, vars, steps, item, index, error "
                                                "or iteration)");
    }
}

} // namespace

std::string truncated(const std::string& s) {
    return s.size() > 64 ? s.substr(0, 64) + "..." : s;
}
const Json& required(const Json& json, const std::string& field, const std::string& path) {
    const Json* v = json.find(field);
    if (v == nullptr) {
        throw DefinitionError(path, "missing field \"" + field + "\"");
    }
    return *v;
}
std::string string_field(const Json& v, const std::string& path) {
    if (!v.is_string()) {
        throw DefinitionError(path, std::string("must be a string, not ") + type_name(v));
    }
    return v.as_string();
}
std::string name_field(const Json& v, const std::string& path) {
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
std::int64_t interval_field(const Json& v, const std::string& path) {
    try {
        if (v.is_int()) {
            return parse_interval_ms(std::to_string(v.as_int()));
        }
        return parse_interval_ms(string_field(v, path));
    } catch (const std::invalid_argument& e) {
        throw DefinitionError(path, e.what());
    }
}
std::int64_t positive_int(const Json& v, const std::string& path, std::int64_t max) {
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
Json value_template(const Json& v, const std::string& path, const ValidationContext& ctx) {
    try {
        for_each_template_expression(v, path, [&](const std::string& text, const std::string& at) {
            (void)expression(text, at, ctx);
        });
    } catch (const ExpressionError& e) {
        throw DefinitionError(path, e.what());
    }
    return v;
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

} // namespace duroxide::core::workflow::fields
