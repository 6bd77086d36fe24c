#include "core/workflow/expression.hpp"

#include <cctype>
#include <cmath>
#include <variant>

namespace duroxide::core::workflow {

struct ExprNode {
    enum class Kind { Literal, Path, Not, Negate, Binary, Call };
    Kind kind = Kind::Literal;
    Json literal;
    // Path: the root ("" for a bare `$`) and then keys (string) or indexes (int64).
    std::string root;
    std::vector<std::variant<std::string, std::int64_t>> segments;
    std::string op; // Binary operator or Call function name
    std::vector<std::shared_ptr<const ExprNode>> args;
};

namespace {

using Node = std::shared_ptr<const ExprNode>;

class Parser {
public:
    Parser(std::string_view text, std::vector<ExpressionReference>& refs) : s_(text), refs_(refs) {}

    Node parse() {
        Node n = parse_or();
        skip();
        if (pos_ != s_.size()) {
            fail("unexpected '" + std::string(1, s_[pos_]) + "'");
        }
        return n;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw ExpressionError(what + " at offset " + std::to_string(pos_));
    }
    void skip() {
        while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) {
            ++pos_;
        }
    }
    bool eat(std::string_view token) {
        skip();
        if (s_.substr(pos_, token.size()) != token) {
            return false;
        }
        // A word operator must not be the prefix of an identifier (`order` is not `or`).
        if (std::isalpha(static_cast<unsigned char>(token[0])) && pos_ + token.size() < s_.size() &&
            is_ident_char(s_[pos_ + token.size()])) {
            return false;
        }
        pos_ += token.size();
        return true;
    }
    static bool is_ident_char(char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    }
    void descend() {
        if (++depth_ > kMaxExpressionDepth) {
            fail("expression nests deeper than " + std::to_string(kMaxExpressionDepth) + " levels");
        }
    }
    static Node binary(std::string op, Node a, Node b) {
        auto n = std::make_shared<ExprNode>();
        n->kind = ExprNode::Kind::Binary;
        n->op = std::move(op);
        n->args = {std::move(a), std::move(b)};
        return n;
    }

    Node parse_or() {
        Node left = parse_and();
        while (eat("or") || eat("||")) {
            left = binary("or", left, parse_and());
        }
        return left;
    }
    Node parse_and() {
        Node left = parse_not();
        while (eat("and") || eat("&&")) {
            left = binary("and", left, parse_not());
        }
        return left;
    }
    Node parse_not() {
        skip();
        if ((s_.substr(pos_, 1) == "!" && s_.substr(pos_, 2) != "!=") ? (++pos_, true)
                                                                      : eat("not")) {
            descend();
            auto n = std::make_shared<ExprNode>();
            n->kind = ExprNode::Kind::Not;
            n->args = {parse_not()};
            --depth_;
            return n;
        }
        return parse_comparison();
    }
    Node parse_comparison() {
        Node left = parse_additive();
        for (std::string_view op : {"==", "!=", "<=", ">=", "<", ">"}) {
            if (eat(op)) {
                return binary(std::string(op), left, parse_additive());
            }
        }
        return left;
    }
    Node parse_additive() {
        Node left = parse_multiplicative();
        for (;;) {
            if (eat("+")) {
                left = binary("+", left, parse_multiplicative());
            } else if (eat("-")) {
                left = binary("-", left, parse_multiplicative());
            } else {
                return left;
            }
        }
    }
    Node parse_multiplicative() {
        Node left = parse_unary();
        for (;;) {
            if (eat("*")) {
                left = binary("*", left, parse_unary());
            } else if (eat("/")) {
                left = binary("/", left, parse_unary());
            } else if (eat("%")) {
                left = binary("%", left, parse_unary());
            } else {
                return left;
            }
        }
    }
    Node parse_unary() {
        if (eat("-")) {
            descend();
            auto n = std::make_shared<ExprNode>();
            n->kind = ExprNode::Kind::Negate;
            n->args = {parse_unary()};
            --depth_;
            return n;
        }
        return parse_primary();
    }
    Node literal(Json value) {
        auto n = std::make_shared<ExprNode>();
        n->literal = std::move(value);
        return n;
    }
    Node parse_primary() {
        skip();
        if (pos_ >= s_.size()) {
            fail("expression ends too early");
        }
        const char c = s_[pos_];
        if (c == '(') {
            ++pos_;
            descend();
            Node inner = parse_or();
            --depth_;
            if (!eat(")")) {
                fail("')' expected");
            }
            return inner;
        }
        if (c == '\'' || c == '"') {
            return literal(Json(parse_string()));
        }
        if (std::isdigit(static_cast<unsigned char>(c))) {
            return parse_number();
        }
        if (c == '$') {
            return parse_path();
        }
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            const std::string word = parse_ident();
            if (word == "true") {
                return literal(Json(true));
            }
            if (word == "false") {
                return literal(Json(false));
            }
            if (word == "null") {
                return literal(Json());
            }
            if (word != "len" && word != "exists" && word != "string" && word != "coalesce") {
                fail("unknown name \"" + word + "\"");
            }
            if (!eat("(")) {
                fail("'(' expected after " + word);
            }
            descend();
            auto n = std::make_shared<ExprNode>();
            n->kind = ExprNode::Kind::Call;
            n->op = word;
            if (!eat(")")) {
                do {
                    n->args.push_back(parse_or());
                } while (eat(","));
                if (!eat(")")) {
                    fail("')' expected");
                }
            }
            --depth_;
            const bool one = word != "coalesce";
            if (one ? n->args.size() != 1 : n->args.empty()) {
                fail(word + (one ? "() takes one argument" : "() takes at least one argument"));
            }
            return n;
        }
        fail("unexpected '" + std::string(1, c) + "'");
    }
    std::string parse_ident() {
        const std::size_t start = pos_;
        while (pos_ < s_.size() && is_ident_char(s_[pos_])) {
            ++pos_;
        }
        return std::string(s_.substr(start, pos_ - start));
    }
    std::string parse_string() {
        const char quote = s_[pos_++];
        std::string out;
        while (pos_ < s_.size() && s_[pos_] != quote) {
            if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) {
                ++pos_;
                const char e = s_[pos_];
                out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
            } else {
                out += s_[pos_];
            }
            ++pos_;
        }
        if (pos_ >= s_.size()) {
            fail("unterminated string");
        }
        ++pos_;
        return out;
    }
    Node parse_number() {
        const std::size_t start = pos_;
        bool fractional = false;
        while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) ||
                                    s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E')) {
            fractional = fractional || !std::isdigit(static_cast<unsigned char>(s_[pos_]));
            ++pos_;
        }
        const std::string text(s_.substr(start, pos_ - start));
        try {
            std::size_t used = 0;
            if (fractional) {
                const double d = std::stod(text, &used);
                if (used == text.size()) {
                    return literal(Json(d));
                }
            } else {
                const long long i = std::stoll(text, &used);
                if (used == text.size()) {
                    return literal(Json(static_cast<std::int64_t>(i)));
                }
            }
            fail("bad number \"" + text + "\"");
        } catch (const std::logic_error&) {
            fail("bad number \"" + text + "\"");
        }
    }
    Node parse_path() {
        ++pos_; // '$'
        auto n = std::make_shared<ExprNode>();
        n->kind = ExprNode::Kind::Path;
        if (pos_ < s_.size() && is_ident_char(s_[pos_])) {
            n->root = parse_ident();
        }
        for (;;) {
            if (pos_ < s_.size() && s_[pos_] == '.') {
                ++pos_;
                if (pos_ >= s_.size() || !is_ident_char(s_[pos_])) {
                    fail("a name must follow '.'");
                }
                n->segments.emplace_back(parse_ident());
            } else if (pos_ < s_.size() && s_[pos_] == '[') {
                ++pos_;
                skip();
                if (pos_ < s_.size() && (s_[pos_] == '\'' || s_[pos_] == '"')) {
                    n->segments.emplace_back(parse_string());
                } else {
                    const std::size_t start = pos_;
                    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
                        ++pos_;
                    }
                    if (start == pos_ || pos_ - start > 9) {
                        fail("an index or a quoted key must follow '['");
                    }
                    n->segments.emplace_back(static_cast<std::int64_t>(
                        std::stoll(std::string(s_.substr(start, pos_ - start)))));
                }
                if (!eat("]")) {
                    fail("']' expected");
                }
            } else {
                break;
            }
        }
        // `$.name` is `$name`.
        if (n->root.empty() && !n->segments.empty() &&
            std::holds_alternative<std::string>(n->segments.front())) {
            n->root = std::get<std::string>(n->segments.front());
            n->segments.erase(n->segments.begin());
        }
        ExpressionReference ref{n->root, ""};
        if (n->root == "steps" && !n->segments.empty() &&
            std::holds_alternative<std::string>(n->segments.front())) {
            ref.step = std::get<std::string>(n->segments.front());
        }
        refs_.push_back(std::move(ref));
        return n;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
    int depth_ = 0;
    std::vector<ExpressionReference>& refs_;
};

[[noreturn]] void type_error(const std::string& op, const Json& a, const Json& b) {
    throw ExpressionError("cannot apply '" + op + "' to " + type_name(a) + " and " + type_name(b));
}

Json arithmetic(const std::string& op, const Json& a, const Json& b) {
    if (op == "+" && (a.is_string() || b.is_string())) {
        return Json(to_text(a) + to_text(b));
    }
    if (!a.is_number() || !b.is_number()) {
        type_error(op, a, b);
    }
    if (a.is_int() && b.is_int()) {
        const std::int64_t x = a.as_int(), y = b.as_int();
        std::int64_t r = 0;
        if (op == "+" && !__builtin_add_overflow(x, y, &r)) {
            return Json(r);
        }
        if (op == "-" && !__builtin_sub_overflow(x, y, &r)) {
            return Json(r);
        }
        if (op == "*" && !__builtin_mul_overflow(x, y, &r)) {
            return Json(r);
        }
        if ((op == "/" || op == "%") && y == 0) {
            throw ExpressionError("division by zero");
        }
        if (op == "%" && !(x == INT64_MIN && y == -1)) {
            return Json(x % y);
        }
        if (op == "/" && y != -1 && x % y == 0) {
            return Json(x / y);
        }
    }
    const double x = a.as_double(), y = b.as_double();
    if ((op == "/" || op == "%") && y == 0) {
        throw ExpressionError("division by zero");
    }
    return Json(op == "+"   ? x + y
                : op == "-" ? x - y
                : op == "*" ? x * y
                : op == "/" ? x / y
                            : std::fmod(x, y));
}

Json compare(const std::string& op, const Json& a, const Json& b) {
    if (op == "==") {
        return Json(a == b);
    }
    if (op == "!=") {
        return Json(!(a == b));
    }
    int c;
    if (a.is_number() && b.is_number()) {
        const bool ints = a.is_int() && b.is_int();
        c = ints ? (a.as_int() < b.as_int()   ? -1
                    : a.as_int() > b.as_int() ? 1
                                              : 0)
                 : (a.as_double() < b.as_double()   ? -1
                    : a.as_double() > b.as_double() ? 1
                                                    : 0);
    } else if (a.is_string() && b.is_string()) {
        c = a.as_string().compare(b.as_string());
    } else {
        type_error(op, a, b);
    }
    return Json(op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0);
}

Json eval(const ExprNode& n, const Json& scope) {
    switch (n.kind) {
    case ExprNode::Kind::Literal:
        return n.literal;
    case ExprNode::Kind::Path: {
        const Json* at = n.root.empty() ? &scope : scope.find(n.root);
        for (const auto& segment : n.segments) {
            if (at == nullptr) {
                break;
            }
            if (const auto* key = std::get_if<std::string>(&segment)) {
                at = at->find(*key);
            } else {
                const std::int64_t i = std::get<std::int64_t>(segment);
                at = at->is_array() && i < static_cast<std::int64_t>(at->as_array().size())
                         ? &at->as_array()[static_cast<std::size_t>(i)]
                         : nullptr;
            }
        }
        return at ? *at : Json();
    }
    case ExprNode::Kind::Not:
        return Json(!eval(*n.args[0], scope).truthy());
    case ExprNode::Kind::Negate: {
        Json v = eval(*n.args[0], scope);
        if (v.is_int() && v.as_int() != INT64_MIN) {
            return Json(-v.as_int());
        }
        if (!v.is_number()) {
            throw ExpressionError(std::string("cannot negate ") + type_name(v));
        }
        return Json(-v.as_double());
    }
    case ExprNode::Kind::Binary: {
        if (n.op == "and") { // short-circuit, the value of the deciding operand
            Json a = eval(*n.args[0], scope);
            return a.truthy() ? eval(*n.args[1], scope) : a;
        }
        if (n.op == "or") {
            Json a = eval(*n.args[0], scope);
            return a.truthy() ? a : eval(*n.args[1], scope);
        }
        Json a = eval(*n.args[0], scope);
        Json b = eval(*n.args[1], scope);
        if (n.op == "+" || n.op == "-" || n.op == "*" || n.op == "/" || n.op == "%") {
            return arithmetic(n.op, a, b);
        }
        return compare(n.op, a, b);
    }
    case ExprNode::Kind::Call: {
        if (n.op == "coalesce") {
            for (const auto& arg : n.args) {
                Json v = eval(*arg, scope);
                if (!v.is_null()) {
                    return v;
                }
            }
            return Json();
        }
        Json v = eval(*n.args[0], scope);
        if (n.op == "exists") {
            return Json(!v.is_null());
        }
        if (n.op == "string") {
            return Json(to_text(v));
        }
        // len
        if (v.is_array()) {
            return Json(static_cast<std::int64_t>(v.as_array().size()));
        }
        if (v.is_object()) {
            return Json(static_cast<std::int64_t>(v.as_object().size()));
        }
        if (v.is_string()) {
            return Json(static_cast<std::int64_t>(v.as_string().size()));
        }
        if (v.is_null()) {
            return Json(static_cast<std::int64_t>(0));
        }
        throw ExpressionError(std::string("len() of ") + type_name(v));
    }
    }
    return Json();
}

} // namespace

Expression Expression::parse(std::string_view text) {
    if (text.size() > kMaxExpressionBytes) {
        throw ExpressionError("expression longer than " + std::to_string(kMaxExpressionBytes) +
                              " bytes");
    }
    Expression e;
    e.text_ = std::string(text);
    e.root_ = Parser(text, e.references_).parse();
    return e;
}

Json Expression::evaluate(const Json& scope) const {
    return eval(*root_, scope);
}

Json evaluate_template(const Json& value, const Json& scope) {
    if (value.is_string()) {
        const std::string& s = value.as_string();
        if (is_expression_string(s)) {
            return Expression::parse(s).evaluate(scope);
        }
        if (s.size() >= 2 && s[0] == '$' && s[1] == '$') {
            return Json(s.substr(1));
        }
        return value;
    }
    if (value.is_object()) {
        if (value.as_object().size() == 1 && value.find("$expr") &&
            value.find("$expr")->is_string()) {
            return Expression::parse(value.find("$expr")->as_string()).evaluate(scope);
        }
        JsonObject out;
        for (const auto& [k, v] : value.as_object()) {
            out.emplace(k, evaluate_template(v, scope));
        }
        return Json(std::move(out));
    }
    if (value.is_array()) {
        JsonArray out;
        for (const auto& v : value.as_array()) {
            out.push_back(evaluate_template(v, scope));
        }
        return Json(std::move(out));
    }
    return value;
}

} // namespace duroxide::core::workflow
