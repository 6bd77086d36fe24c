#include "core/codec/json_codec.hpp"

#include "core/codec/wire_fields.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace duroxide::core::codec {

namespace {

template <class... Ts>
struct Overloaded : Ts... {
    using Ts::operator()...;
};

// ---------------------------------------------------------------------------------- writing

class Out {
public:
    Out() : writer_(buffer_) {}
    std::string take() { return std::string(buffer_.GetString(), buffer_.GetSize()); }

    void begin() { writer_.StartObject(); }
    void end() { writer_.EndObject(); }
    void key(const char* name) { writer_.Key(name); }
    void str(const char* name, const std::string& v) {
        key(name);
        writer_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    }
    void u64(const char* name, uint64_t v) {
        key(name);
        writer_.Uint64(v);
    }
    void boolean(const char* name, bool v) {
        key(name);
        writer_.Bool(v);
    }
    void opt_str(const char* name, const std::optional<std::string>& v, bool omit_if_none) {
        if (v) {
            str(name, *v);
        } else if (!omit_if_none) {
            key(name);
            writer_.Null();
        }
    }
    void opt_u64(const char* name, const std::optional<uint64_t>& v) {
        key(name);
        v ? (void)writer_.Uint64(*v) : (void)writer_.Null();
    }
    void string_value(const std::string& v) {
        writer_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    }
    void pairs(const char* name, const CarryForwardEvents& v) {
        key(name);
        writer_.StartArray();
        for (const auto& [queue, data] : v) {
            writer_.StartArray();
            string_value(queue);
            string_value(data);
            writer_.EndArray();
        }
        writer_.EndArray();
    }
    void null(const char* name) {
        key(name);
        writer_.Null();
    }
    void strings(const char* name, const std::vector<std::string>& v) {
        key(name);
        writer_.StartArray();
        for (const std::string& text : v) {
            string_value(text);
        }
        writer_.EndArray();
    }
    // {"Tag":{ ... }} — call fill() to write the inner fields.
    template <typename Fill>
    void tagged(const char* tag, Fill&& fill) {
        begin();
        key(tag);
        begin();
        fill();
        end();
        end();
    }
    void unit_variant(const char* name, const char* tag) {
        key(name);
        writer_.String(tag);
    }
    rapidjson::Writer<rapidjson::StringBuffer>& raw() { return writer_; }

private:
    rapidjson::StringBuffer buffer_;
    rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

void write_error_details(Out& out, const ErrorDetails& details) {
    std::visit(
        Overloaded{
            [&](const InfrastructureError& e) {
                out.tagged("Infrastructure", [&] {
                    out.str("operation", e.operation);
                    out.str("message", e.message);
                    out.boolean("retryable", e.retryable);
                });
            },
            [&](const ConfigurationError& e) {
                out.tagged("Configuration", [&] {
                    out.unit_variant("kind", "Nondeterminism");
                    out.str("resource", e.resource);
                    out.opt_str("message", e.message, false);
                });
            },
            [&](const ApplicationError& e) {
                out.tagged("Application", [&] {
                    std::visit(
                        Overloaded{
                            [&](const AppActivityFailed&) {
                                out.unit_variant("kind", "ActivityFailed");
                            },
                            [&](const AppOrchestrationFailed&) {
                                out.unit_variant("kind", "OrchestrationFailed");
                            },
                            [&](const AppPanicked&) { out.unit_variant("kind", "Panicked"); },
                            [&](const AppCancelled& c) {
                                out.key("kind");
                                out.tagged("Cancelled", [&] { out.str("reason", c.reason); });
                            },
                        },
                        e.kind);
                    out.str("message", e.message);
                    out.boolean("retryable", e.retryable);
                    if (e.sql) {
                        out.str("sqlstate", e.sql->sqlstate);
                        out.opt_str("detail", e.sql->detail, true);
                        out.opt_str("hint", e.sql->hint, true);
                        out.opt_str("context", e.sql->context, true);
                    }
                });
            },
            [&](const PoisonError& e) {
                out.tagged("Poison", [&] {
                    out.u64("attempt_count", e.attempt_count);
                    out.u64("max_attempts", e.max_attempts);
                    out.key("message_type");
                    std::visit(Overloaded{
                                   [&](const PoisonOrchestration& p) {
                                       out.tagged("Orchestration", [&] {
                                           out.str("instance", p.instance);
                                           out.u64("execution_id", p.execution_id);
                                       });
                                   },
                                   [&](const PoisonActivity& p) {
                                       out.tagged("Activity", [&] {
                                           out.str("instance", p.instance);
                                           out.u64("execution_id", p.execution_id);
                                           out.str("activity_name", p.activity_name);
                                           out.u64("activity_id", p.activity_id);
                                       });
                                   },
                                   [&](const PoisonFailedDeserialization& p) {
                                       out.tagged("FailedDeserialization", [&] {
                                           out.str("instance", p.instance);
                                           out.u64("execution_id", p.execution_id);
                                           out.str("error", p.error);
                                       });
                                   },
                               },
                               e.message_type);
                    out.str("message", e.message);
                });
            },
        },
        details.value);
}

void write_details_field(Out& out, const char* name, const ErrorDetails& details) {
    out.key(name);
    write_error_details(out, details);
}

template <class>
inline constexpr bool kUnsupportedField = false;

// Writes one described field of `object` (wire_fields.hpp says how each member type goes).
// `omit_nulls`: every absent optional is left out (the stored form), not only the omitted ones.
template <class T, class M>
void write_field(Out& out, const T& object, const wire::Field<T, M>& field, bool omit_nulls) {
    const M& v = object.*field.member;
    const bool omit_if_none = omit_nulls || field.absent == wire::Absent::Omit;
    if constexpr (std::is_same_v<M, std::string>) {
        out.str(field.name, v);
    } else if constexpr (std::is_same_v<M, uint64_t>) {
        out.u64(field.name, v);
    } else if constexpr (std::is_same_v<M, std::optional<std::string>>) {
        out.opt_str(field.name, v, omit_if_none);
    } else if constexpr (std::is_same_v<M, std::optional<uint64_t>>) {
        if (v || !omit_if_none) {
            out.opt_u64(field.name, v);
        }
    } else if constexpr (std::is_same_v<M, CarryForwardEvents>) {
        out.pairs(field.name, v);
    } else if constexpr (std::is_same_v<M, std::optional<CarryForwardEvents>>) {
        if (v) {
            out.pairs(field.name, *v);
        } else if (!omit_if_none) {
            out.null(field.name);
        }
    } else if constexpr (std::is_same_v<M, std::optional<std::vector<std::string>>>) {
        if (v) {
            out.strings(field.name, *v);
        } else if (!omit_if_none) {
            out.null(field.name);
        }
    } else if constexpr (std::is_same_v<M, ErrorDetails>) {
        write_details_field(out, field.name, v);
    } else {
        static_assert(kUnsupportedField<M>, "no wire shape for this member type");
    }
}

// Writes every field wire_fields.hpp lists for T, in order.
template <class T>
void write_fields(Out& out, const T& object, bool omit_nulls = false) {
    std::apply([&](const auto&... field) { (write_field(out, object, field, omit_nulls), ...); },
               wire::Fields<T>::list);
}

void write_event(Out& out, const Event& event) {
    out.begin();
    write_fields(out, event); // the envelope
    out.key("type");
    out.raw().String(event.type_name());
    std::visit([&](const auto& kind) { write_fields(out, kind); }, event.kind);
    out.end();
}

// The stored form (json_codec.hpp): the envelope without the row's keys, the implied version or
// a null source, and the kind's fields without their nulls.
void write_stored_event(Out& out, const Event& event) {
    out.begin();
    if (event.source_event_id) {
        out.u64("source_event_id", *event.source_event_id);
    }
    out.u64("timestamp_ms", event.timestamp_ms);
    if (event.duroxide_version != kStoredImpliedVersion) {
        out.str("duroxide_version", event.duroxide_version);
    }
    std::visit([&](const auto& kind) { write_fields(out, kind, true); }, event.kind);
    out.end();
}

void write_work_item(Out& out, const WorkItem& item) {
    out.tagged(item.type_name(),
               [&] { std::visit([&](const auto& kind) { write_fields(out, kind); }, item.kind); });
}

void write_action(Out& out, const Action& action) {
    out.tagged(action_type_name(action),
               [&] { std::visit([&](const auto& kind) { write_fields(out, kind); }, action); });
}

// ---------------------------------------------------------------------------------- reading

using Value = rapidjson::Value;

// Rejects oversized input and nesting deeper than allowed without building anything.
void check_shape(std::string_view json, const DecodeLimits& limits) {
    if (json.size() > limits.max_bytes) {
        throw CodecError("JSON input too large: " + std::to_string(json.size()) + " bytes (limit " +
                         std::to_string(limits.max_bytes) + ")");
    }
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (char c : json) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > limits.max_depth) {
                throw CodecError("JSON nested deeper than " + std::to_string(limits.max_depth) +
                                 " levels");
            }
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
}

rapidjson::Document parse(std::string_view json, const DecodeLimits& limits) {
    check_shape(json, limits);
    rapidjson::Document document;
    // Iterative: no recursion however deep the input. Trailing content after the root value is
    // an error (kParseErrorDocumentRootNotSingular).
    document.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
    if (document.HasParseError()) {
        throw CodecError(std::string("malformed JSON at offset ") +
                         std::to_string(document.GetErrorOffset()) + ": " +
                         rapidjson::GetParseError_En(document.GetParseError()));
    }
    return document;
}

class In {
public:
    In(const Value& object, const char* what) : object_(object), what_(what) {
        if (!object.IsObject()) {
            throw CodecError(std::string(what) + ": expected a JSON object");
        }
    }
    const Value* find(const char* name) const {
        auto it = object_.FindMember(name);
        return it == object_.MemberEnd() ? nullptr : &it->value;
    }
    const Value& need(const char* name) const {
        const Value* v = find(name);
        if (v == nullptr) {
            throw CodecError(std::string(what_) + ": missing field \"" + name + "\"");
        }
        return *v;
    }
    [[noreturn]] void wrong(const char* name, const char* expected) const {
        throw CodecError(std::string(what_) + ": field \"" + name + "\" must be " + expected);
    }
    std::string str(const char* name) const {
        const Value& v = need(name);
        if (!v.IsString()) {
            wrong(name, "a string");
        }
        return std::string(v.GetString(), v.GetStringLength());
    }
    uint64_t u64(const char* name) const {
        const Value& v = need(name);
        if (!v.IsUint64()) {
            wrong(name, "a non-negative integer");
        }
        return v.GetUint64();
    }
    uint32_t u32(const char* name) const {
        const Value& v = need(name);
        if (!v.IsUint()) {
            wrong(name, "a non-negative 32-bit integer");
        }
        return v.GetUint();
    }
    bool boolean(const char* name) const {
        const Value& v = need(name);
        if (!v.IsBool()) {
            wrong(name, "a boolean");
        }
        return v.GetBool();
    }
    std::optional<std::string> opt_str(const char* name) const {
        const Value* v = find(name);
        if (v == nullptr || v->IsNull()) {
            return std::nullopt;
        }
        if (!v->IsString()) {
            wrong(name, "a string or null");
        }
        return std::string(v->GetString(), v->GetStringLength());
    }
    std::optional<uint64_t> opt_u64(const char* name) const {
        const Value* v = find(name);
        if (v == nullptr || v->IsNull()) {
            return std::nullopt;
        }
        if (!v->IsUint64()) {
            wrong(name, "a non-negative integer or null");
        }
        return v->GetUint64();
    }
    CarryForwardEvents pairs(const Value& v, const char* name) const {
        if (!v.IsArray()) {
            wrong(name, "an array of [queue, data] pairs");
        }
        CarryForwardEvents result;
        for (const auto& pair : v.GetArray()) {
            if (!pair.IsArray() || pair.Size() != 2 || !pair[0].IsString() || !pair[1].IsString()) {
                wrong(name, "an array of [queue, data] string pairs");
            }
            result.emplace_back(std::string(pair[0].GetString(), pair[0].GetStringLength()),
                                std::string(pair[1].GetString(), pair[1].GetStringLength()));
        }
        return result;
    }
    std::optional<CarryForwardEvents> opt_pairs(const char* name) const {
        const Value* v = find(name);
        if (v == nullptr || v->IsNull()) {
            return std::nullopt;
        }
        return pairs(*v, name);
    }
    std::optional<std::vector<std::string>> opt_strings(const char* name) const {
        const Value* v = find(name);
        if (v == nullptr || v->IsNull()) {
            return std::nullopt;
        }
        if (!v->IsArray()) {
            wrong(name, "an array of strings");
        }
        std::vector<std::string> result;
        for (const auto& item : v->GetArray()) {
            if (!item.IsString()) {
                wrong(name, "an array of strings");
            }
            result.emplace_back(item.GetString(), item.GetStringLength());
        }
        return result;
    }
    const char* what() const { return what_; }

private:
    const Value& object_;
    const char* what_;
};

// {"Tag": {...}} → (tag, inner object). Unit variants may come as a bare string.
std::pair<std::string, const Value*> external_tag(const Value& v, const char* what) {
    if (v.IsString()) {
        return {std::string(v.GetString(), v.GetStringLength()), nullptr};
    }
    if (!v.IsObject() || v.MemberCount() != 1) {
        throw CodecError(std::string(what) + ": expected an object with exactly one variant tag");
    }
    const auto& member = *v.MemberBegin();
    return {std::string(member.name.GetString(), member.name.GetStringLength()), &member.value};
}

const Value& inner_object(const std::pair<std::string, const Value*>& tagged, const char* what) {
    if (tagged.second == nullptr || !tagged.second->IsObject()) {
        throw CodecError(std::string(what) + " variant \"" + tagged.first + "\" needs an object");
    }
    return *tagged.second;
}

ErrorDetails read_error_details(const Value& v) {
    auto tagged = external_tag(v, "ErrorDetails");
    const std::string& tag = tagged.first;
    if (tag == "Infrastructure") {
        In in(inner_object(tagged, "ErrorDetails"), "ErrorDetails::Infrastructure");
        return {
            InfrastructureError{in.str("operation"), in.str("message"), in.boolean("retryable")}};
    }
    if (tag == "Configuration") {
        In in(inner_object(tagged, "ErrorDetails"), "ErrorDetails::Configuration");
        auto kind = external_tag(in.need("kind"), "ConfigErrorKind");
        if (kind.first != "Nondeterminism") {
            throw CodecError("ConfigErrorKind: unknown variant \"" + kind.first + "\"");
        }
        return {ConfigurationError{ConfigErrorKind::Nondeterminism, in.str("resource"),
                                   in.opt_str("message")}};
    }
    if (tag == "Application") {
        In in(inner_object(tagged, "ErrorDetails"), "ErrorDetails::Application");
        auto kind_tag = external_tag(in.need("kind"), "AppErrorKind");
        AppErrorKind kind;
        if (kind_tag.first == "ActivityFailed") {
            kind = AppActivityFailed{};
        } else if (kind_tag.first == "OrchestrationFailed") {
            kind = AppOrchestrationFailed{};
        } else if (kind_tag.first == "Panicked") {
            kind = AppPanicked{};
        } else if (kind_tag.first == "Cancelled") {
            In c(inner_object(kind_tag, "AppErrorKind"), "AppErrorKind::Cancelled");
            kind = AppCancelled{c.str("reason")};
        } else {
            throw CodecError("AppErrorKind: unknown variant \"" + kind_tag.first + "\"");
        }
        std::optional<SqlErrorFields> sql;
        if (auto sqlstate = in.opt_str("sqlstate")) {
            sql = SqlErrorFields{*sqlstate, in.opt_str("detail"), in.opt_str("hint"),
                                 in.opt_str("context")};
        }
        return {ApplicationError{std::move(kind), in.str("message"), in.boolean("retryable"),
                                 std::move(sql)}};
    }
    if (tag == "Poison") {
        In in(inner_object(tagged, "ErrorDetails"), "ErrorDetails::Poison");
        auto type_tag = external_tag(in.need("message_type"), "PoisonMessageType");
        const Value& body = inner_object(type_tag, "PoisonMessageType");
        PoisonMessageType type;
        if (type_tag.first == "Orchestration") {
            In p(body, "PoisonMessageType::Orchestration");
            type = PoisonOrchestration{p.str("instance"), p.u64("execution_id")};
        } else if (type_tag.first == "Activity") {
            In p(body, "PoisonMessageType::Activity");
            type = PoisonActivity{p.str("instance"), p.u64("execution_id"), p.str("activity_name"),
                                  p.u64("activity_id")};
        } else if (type_tag.first == "FailedDeserialization") {
            In p(body, "PoisonMessageType::FailedDeserialization");
            type = PoisonFailedDeserialization{p.str("instance"), p.u64("execution_id"),
                                               p.str("error")};
        } else {
            throw CodecError("PoisonMessageType: unknown variant \"" + type_tag.first + "\"");
        }
        return {PoisonError{in.u32("attempt_count"), in.u32("max_attempts"), std::move(type),
                            in.str("message")}};
    }
    throw CodecError("ErrorDetails: unknown variant \"" + tag + "\"");
}

// Reads one described field into `object` (the counterpart of write_field).
template <class T, class M>
void read_field(const In& in, T& object, const wire::Field<T, M>& field) {
    M& v = object.*field.member;
    if constexpr (std::is_same_v<M, std::string>) {
        v = in.str(field.name);
    } else if constexpr (std::is_same_v<M, uint64_t>) {
        v = in.u64(field.name);
    } else if constexpr (std::is_same_v<M, std::optional<std::string>>) {
        v = in.opt_str(field.name);
    } else if constexpr (std::is_same_v<M, std::optional<uint64_t>>) {
        v = in.opt_u64(field.name);
    } else if constexpr (std::is_same_v<M, CarryForwardEvents>) {
        v = in.opt_pairs(field.name).value_or(CarryForwardEvents{});
    } else if constexpr (std::is_same_v<M, std::optional<CarryForwardEvents>>) {
        v = in.opt_pairs(field.name);
    } else if constexpr (std::is_same_v<M, std::optional<std::vector<std::string>>>) {
        v = in.opt_strings(field.name);
    } else if constexpr (std::is_same_v<M, ErrorDetails>) {
        v = read_error_details(in.need(field.name));
    } else {
        static_assert(kUnsupportedField<M>, "no wire shape for this member type");
    }
}

// Reads every field wire_fields.hpp lists for T, in order (the first missing or mistyped
// field is the error).
template <class T>
T read_fields(const In& in) {
    T object{};
    std::apply([&](const auto&... field) { (read_field(in, object, field), ...); },
               wire::Fields<T>::list);
    return object;
}

template <class Variant, std::size_t I>
Variant read_alternative(const In& in) {
    return Variant(std::in_place_index<I>, read_fields<std::variant_alternative_t<I, Variant>>(in));
}

// The alternative of Variant whose type tag (`name_of(index)`, the model's names) is `tag`,
// its fields read from `in`; an unknown tag is "<unknown>\"<tag>\"".
template <class Variant, std::size_t... I>
Variant read_tagged(const std::string& tag, const In& in, const char* (*name_of)(std::size_t),
                    const char* unknown, std::index_sequence<I...>) {
    static constexpr Variant (*kReaders[])(const In&) = {&read_alternative<Variant, I>...};
    for (std::size_t i = 0; i < sizeof...(I); ++i) {
        if (tag == name_of(i)) {
            return kReaders[i](in);
        }
    }
    throw CodecError(unknown + tag + "\"");
}

template <class Variant>
Variant read_tagged(const std::string& tag, const In& in, const char* (*name_of)(std::size_t),
                    const char* unknown) {
    return read_tagged<Variant>(tag, in, name_of, unknown,
                                std::make_index_sequence<std::variant_size_v<Variant>>{});
}

Event read_event(const Value& v) {
    In in(v, "Event");
    Event event = read_fields<Event>(in); // the envelope
    event.kind =
        read_tagged<EventKind>(in.str("type"), in, event_type_name, "Event: unknown type \"");
    return event;
}

// A stored-form event (no "type"), its keys taken from the row's columns.
Event read_stored_event(const Value& v, const StoredEventKeys& keys) {
    In in(v, "Event");
    Event event;
    event.event_id = keys.event_id;
    event.source_event_id = in.opt_u64("source_event_id");
    event.instance_id = std::string(keys.instance_id);
    event.execution_id = keys.execution_id;
    event.timestamp_ms = in.u64("timestamp_ms");
    event.duroxide_version = in.opt_str("duroxide_version").value_or(kStoredImpliedVersion);
    event.kind = read_tagged<EventKind>(std::string(keys.type), in, event_type_name,
                                        "Event: unknown type \"");
    return event;
}

// Whether a parsed event is in the full form (it names its own type).
bool is_full_form(const Value& v) {
    return v.IsObject() && v.HasMember("type");
}

WorkItem read_work_item(const Value& v) {
    auto tagged = external_tag(v, "WorkItem");
    In in(inner_object(tagged, "WorkItem"), "WorkItem");
    return WorkItem{read_tagged<WorkItemKind>(tagged.first, in, work_item_type_name,
                                              "WorkItem: unknown variant \"")};
}

Action read_action(const Value& v) {
    auto tagged = external_tag(v, "Action");
    In in(inner_object(tagged, "Action"), "Action");
    return read_tagged<Action>(tagged.first, in, action_type_name, "Action: unknown variant \"");
}

template <typename T, typename Read>
std::vector<T> read_array(std::string_view json, const DecodeLimits& limits, Read read,
                          const char* what) {
    rapidjson::Document document = parse(json, limits);
    if (!document.IsArray()) {
        throw CodecError(std::string(what) + ": expected a JSON array");
    }
    std::vector<T> result;
    result.reserve(document.Size());
    for (const auto& element : document.GetArray()) {
        result.push_back(read(element));
    }
    return result;
}

} // namespace

std::string encode(const Event& event) {
    Out out;
    write_event(out, event);
    return out.take();
}

std::string encode_stored(const Event& event) {
    Out out;
    write_stored_event(out, event);
    return out.take();
}

std::string encode(const ErrorDetails& details) {
    Out out;
    write_error_details(out, details);
    return out.take();
}

std::string encode(const WorkItem& item) {
    Out out;
    write_work_item(out, item);
    return out.take();
}

std::string encode(const Action& action) {
    Out out;
    write_action(out, action);
    return out.take();
}

std::string encode_history(std::span<const Event> events) {
    Out out;
    out.raw().StartArray();
    for (const auto& event : events) {
        write_event(out, event);
    }
    out.raw().EndArray();
    return out.take();
}

std::string encode_work_items(std::span<const WorkItem> items) {
    Out out;
    out.raw().StartArray();
    for (const auto& item : items) {
        write_work_item(out, item);
    }
    out.raw().EndArray();
    return out.take();
}

Event decode_event(std::string_view json, const DecodeLimits& limits) {
    return read_event(parse(json, limits));
}

Event decode_stored_event(std::string_view json, const StoredEventKeys& keys,
                          const DecodeLimits& limits) {
    rapidjson::Document document = parse(json, limits);
    return is_full_form(document) ? read_event(document) : read_stored_event(document, keys);
}

std::optional<std::string> full_form_of_stored(std::string_view json, const StoredEventKeys& keys,
                                               const DecodeLimits& limits) {
    rapidjson::Document document;
    try {
        document = parse(json, limits);
    } catch (const CodecError&) {
        return std::nullopt; // not JSON: not the stored form either
    }
    if (!document.IsObject() || is_full_form(document)) {
        return std::nullopt;
    }
    return encode(read_stored_event(document, keys));
}

ErrorDetails decode_error_details(std::string_view json, const DecodeLimits& limits) {
    return read_error_details(parse(json, limits));
}

WorkItem decode_work_item(std::string_view json, const DecodeLimits& limits) {
    return read_work_item(parse(json, limits));
}

Action decode_action(std::string_view json, const DecodeLimits& limits) {
    return read_action(parse(json, limits));
}

std::vector<Event> decode_history(std::string_view json, const DecodeLimits& limits) {
    return read_array<Event>(json, limits, read_event, "history");
}

std::vector<WorkItem> decode_work_items(std::string_view json, const DecodeLimits& limits) {
    return read_array<WorkItem>(json, limits, read_work_item, "work items");
}

} // namespace duroxide::core::codec