#include "core/workflow/json.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>

namespace duroxide::core::workflow {

namespace {

// Builds a Json from RapidJSON's SAX events with an explicit stack (no recursion).
class Builder {
public:
    explicit Builder(int max_depth) : max_depth_(max_depth) {}

    bool Null() { return put(Json()); }
    bool Bool(bool b) { return put(Json(b)); }
    bool Int(int i) { return put(Json(static_cast<std::int64_t>(i))); }
    bool Uint(unsigned u) { return put(Json(static_cast<std::int64_t>(u))); }
    bool Int64(std::int64_t i) { return put(Json(i)); }
    bool Uint64(std::uint64_t u) {
        return put(u > static_cast<std::uint64_t>(INT64_MAX) ? Json(static_cast<double>(u))
                                                             : Json(static_cast<std::int64_t>(u)));
    }
    bool Double(double d) { return put(Json(d)); }
    bool RawNumber(const char*, rapidjson::SizeType, bool) { return false; }
    bool String(const char* s, rapidjson::SizeType n, bool) { return put(Json(std::string(s, n))); }
    bool StartObject() { return open(Json(JsonObject{})); }
    bool Key(const char* s, rapidjson::SizeType n, bool) {
        keys_.back() = std::string(s, n);
        return true;
    }
    bool EndObject(rapidjson::SizeType) { return close(); }
    bool StartArray() { return open(Json(JsonArray{})); }
    bool EndArray(rapidjson::SizeType) { return close(); }

    Json result;
    bool too_deep = false;

private:
    bool open(Json container) {
        if (static_cast<int>(stack_.size()) >= max_depth_) {
            too_deep = true;
            return false;
        }
        stack_.push_back(std::move(container));
        keys_.emplace_back();
        return true;
    }
    bool close() {
        Json done = std::move(stack_.back());
        stack_.pop_back();
        keys_.pop_back();
        return put(std::move(done));
    }
    bool put(Json value) {
        if (stack_.empty()) {
            result = std::move(value);
        } else if (stack_.back().is_array()) {
            stack_.back().as_array().push_back(std::move(value));
        } else {
            stack_.back().as_object().insert_or_assign(keys_.back(), std::move(value));
        }
        return true;
    }
    int max_depth_;
    std::vector<Json> stack_;
    std::vector<std::string> keys_;
};

void write(rapidjson::Writer<rapidjson::StringBuffer>& w, const Json& v) {
    switch (v.type()) {
    case Json::Type::Null:
        w.Null();
        break;
    case Json::Type::Bool:
        w.Bool(v.as_bool());
        break;
    case Json::Type::Int:
        w.Int64(v.as_int());
        break;
    case Json::Type::Double:
        if (std::isfinite(v.as_double())) {
            w.Double(v.as_double());
        } else {
            w.Null(); // JSON has no NaN or infinity
        }
        break;
    case Json::Type::String:
        w.String(v.as_string().data(), static_cast<rapidjson::SizeType>(v.as_string().size()));
        break;
    case Json::Type::Array:
        w.StartArray();
        for (const auto& e : v.as_array()) {
            write(w, e);
        }
        w.EndArray();
        break;
    case Json::Type::Object:
        w.StartObject();
        for (const auto& [k, e] : v.as_object()) {
            w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
            write(w, e);
        }
        w.EndObject();
        break;
    }
}

} // namespace

Json Json::parse(std::string_view text, int max_depth) {
    Builder builder(max_depth);
    rapidjson::Reader reader;
    rapidjson::MemoryStream stream(text.data(), text.size());
    rapidjson::ParseResult ok =
        reader.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseStopWhenDoneFlag>(stream,
                                                                                         builder);
    if (builder.too_deep) {
        throw JsonError("JSON nests deeper than " + std::to_string(max_depth) + " levels");
    }
    if (!ok) {
        throw JsonError(std::string("invalid JSON: ") + rapidjson::GetParseError_En(ok.Code()) +
                        " at offset " + std::to_string(ok.Offset()));
    }
    // kParseStopWhenDoneFlag: only whitespace may follow the value.
    for (std::size_t i = stream.Tell(); i < text.size(); ++i) {
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t') {
            throw JsonError("invalid JSON: text after the value at offset " + std::to_string(i));
        }
    }
    return std::move(builder.result);
}

std::string Json::dump() const {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    write(writer, *this);
    return std::string(buffer.GetString(), buffer.GetSize());
}

const Json* Json::find(std::string_view key) const {
    if (!is_object()) {
        return nullptr;
    }
    auto it = as_object().find(key);
    return it == as_object().end() ? nullptr : &it->second;
}

bool Json::truthy() const {
    switch (type()) {
    case Type::Null:
        return false;
    case Type::Bool:
        return as_bool();
    case Type::Int:
        return as_int() != 0;
    case Type::Double:
        return as_double() != 0.0;
    case Type::String:
        return !as_string().empty();
    default:
        return true;
    }
}

bool operator==(const Json& a, const Json& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_int() && b.is_int()) {
            return a.as_int() == b.as_int();
        }
        return a.as_double() == b.as_double();
    }
    if (a.type_ != b.type_) {
        return false;
    }
    switch (a.type_) {
    case Json::Type::Null:
        return true;
    case Json::Type::Bool:
        return a.bool_ == b.bool_;
    case Json::Type::String:
        return a.string_ == b.string_;
    case Json::Type::Array:
        return a.array_ == b.array_;
    case Json::Type::Object:
        return a.object_ == b.object_;
    default:
        return false; // numbers are handled above
    }
}

const char* type_name(const Json& value) {
    switch (value.type()) {
    case Json::Type::Null:
        return "null";
    case Json::Type::Bool:
        return "boolean";
    case Json::Type::Int:
    case Json::Type::Double:
        return "number";
    case Json::Type::String:
        return "string";
    case Json::Type::Array:
        return "array";
    case Json::Type::Object:
        return "object";
    }
    return "?";
}

std::string to_text(const Json& value) {
    return value.is_string() ? value.as_string() : value.dump();
}

Json from_text(std::string_view text) {
    try {
        return Json::parse(text);
    } catch (const JsonError&) {
        return Json(std::string(text));
    }
}

} // namespace duroxide::core::workflow
