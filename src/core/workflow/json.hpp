// A small JSON value for the workflow interpreter: definitions, inputs, step results and the
// values expressions compute. Parsed with RapidJSON's iterative parser (no recursion, safe on
// fiber stacks) under a nesting bound; objects keep their keys sorted, so the text a value
// serializes to is deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace duroxide::core::workflow {

class Json;
using JsonArray = std::vector<Json>;
using JsonObject = std::map<std::string, Json, std::less<>>;

class JsonError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Values nest at most this deep (definitions have their own, lower limit).
inline constexpr int kMaxJsonDepth = 64;

class Json {
public:
    enum class Type { Null, Bool, Int, Double, String, Array, Object };

    Json() = default;
    Json(std::nullptr_t) {}
    Json(bool b) : type_(Type::Bool), bool_(b) {}
    Json(int i) : type_(Type::Int), int_(i) {}
    Json(std::int64_t i) : type_(Type::Int), int_(i) {}
    Json(double d) : type_(Type::Double), double_(d) {}
    Json(const char* s) : type_(Type::String), string_(s) {}
    Json(std::string s) : type_(Type::String), string_(std::move(s)) {}
    Json(std::string_view s) : type_(Type::String), string_(s) {}
    Json(JsonArray a) : type_(Type::Array), array_(std::move(a)) {}
    Json(JsonObject o) : type_(Type::Object), object_(std::move(o)) {}

    static Json parse(std::string_view text, int max_depth = kMaxJsonDepth);
    std::string dump() const;

    Type type() const { return type_; }
    bool is_null() const { return type() == Type::Null; }
    bool is_bool() const { return type() == Type::Bool; }
    bool is_int() const { return type() == Type::Int; }
    bool is_number() const { return type() == Type::Int || type() == Type::Double; }
    bool is_string() const { return type() == Type::String; }
    bool is_array() const { return type() == Type::Array; }
    bool is_object() const { return type() == Type::Object; }

    // Accessors of the value's own type (the others hold nothing).
    bool as_bool() const { return bool_; }
    std::int64_t as_int() const { return int_; }
    double as_double() const { return type_ == Type::Int ? static_cast<double>(int_) : double_; }
    const std::string& as_string() const { return string_; }
    const JsonArray& as_array() const { return array_; }
    JsonArray& as_array() { return array_; }
    const JsonObject& as_object() const { return object_; }
    JsonObject& as_object() { return object_; }

    // The member `key` of an object, or nullptr (also for non-objects).
    const Json* find(std::string_view key) const;
    // Truthiness for conditions: null, false, 0, "" are false; everything else is true.
    bool truthy() const;

    friend bool operator==(const Json& a, const Json& b);

private:
    // A tagged struct rather than a std::variant: GCC 12 reports false maybe-uninitialized
    // warnings on recursive variants.
    Type type_ = Type::Null;
    bool bool_ = false;
    std::int64_t int_ = 0;
    double double_ = 0;
    std::string string_;
    JsonArray array_;
    JsonObject object_;
};

// The name of a JSON type for messages ("null", "boolean", "number", ...).
const char* type_name(const Json& value);

// Text for activities, custom status and failure messages: a string as itself, anything else
// as its JSON text.
std::string to_text(const Json& value);
// The reverse for results: JSON text as its value, anything else as a string.
Json from_text(std::string_view text);

} // namespace duroxide::core::workflow
