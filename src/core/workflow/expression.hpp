// The workflow expression language (docs/workflows.md, "Expressions"): conditions and values
// computed by the interpreter over JSON, never by SQL, so replay is deterministic.
//
//   $input.sku   $steps.reserve.rows[0].id   $.input['odd key']   $item   $index   $error
//   literals: 12  1.5  'text'  "text"  true  false  null
//   == != < <= > >=   + - * / %   and or not  (also && || !)   ( )
//   len(x)  exists(x)  string(x)  coalesce(a, b, ...)
//
// A path that does not exist is null. `$name` is short for `$.name`; the scope has the roots
// input, steps, item, index, error and iteration.
#pragma once

#include "core/workflow/json.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace duroxide::core::workflow {

// Expressions are at most this long and nest at most this deep.
inline constexpr std::size_t kMaxExpressionBytes = 4096;
inline constexpr int kMaxExpressionDepth = 32;

class ExpressionError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A path rooted in the scope that an expression reads: root "steps" with `step` set for
// $steps.<step>...
struct ExpressionReference {
    std::string root; // empty for a bare `$`
    std::string step; // for root "steps" followed by a name
};

struct ExprNode;

class Expression {
public:
    // Throws ExpressionError (with the offset) for bad syntax or an expression over the limits.
    static Expression parse(std::string_view text);
    // Throws ExpressionError for a type error (comparing a string with a number, ...).
    Json evaluate(const Json& scope) const;
    const std::vector<ExpressionReference>& references() const { return references_; }
    const std::string& text() const { return text_; }

private:
    std::shared_ptr<const ExprNode> root_;
    std::vector<ExpressionReference> references_;
    std::string text_;
};

// Value templates: JSON in which a string starting with '$' is an expression, an object
// {"$expr": "<expression>"} is an expression, and a string starting with "$$" is the literal
// text without its first '$'. Everything else is itself.
// Calls `check(expression, json_path)` on every expression in the template (for validation).
template <typename Check>
void for_each_template_expression(const Json& value, const std::string& path, Check&& check);
Json evaluate_template(const Json& value, const Json& scope);

// Whether a template string is an expression (and not a "$$" literal).
inline bool is_expression_string(std::string_view s) {
    return s.size() >= 1 && s[0] == '$' && !(s.size() >= 2 && s[1] == '$');
}

template <typename Check>
void for_each_template_expression(const Json& value, const std::string& path, Check&& check) {
    if (value.is_string() && is_expression_string(value.as_string())) {
        check(value.as_string(), path);
    } else if (value.is_object()) {
        if (value.as_object().size() == 1 && value.find("$expr") != nullptr) {
            const Json& e = *value.find("$expr");
            if (!e.is_string()) {
                throw ExpressionError(path + ".$expr: must be a string");
            }
            check(e.as_string(), path + ".$expr");
            return;
        }
        for (const auto& [k, v] : value.as_object()) {
            for_each_template_expression(v, path + "." + k, check);
        }
    } else if (value.is_array()) {
        const auto& a = value.as_array();
        for (std::size_t i = 0; i < a.size(); ++i) {
            for_each_template_expression(a[i], path + "[" + std::to_string(i) + "]", check);
        }
    }
}

} // namespace duroxide::core::workflow
