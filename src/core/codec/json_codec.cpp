#include "core/codec/json_codec.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>

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
    void opt_strings(const char* name, const std::optional<std::vector<std::string>>& v) {
        if (!v) {
            return; // omitted when absent
        }
        key(name);
        writer_.StartArray();
        for (const std::string& text : *v) {
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

void write_event_fields(Out& out, const Event& event) {
    out.u64("event_id", event.event_id);
    out.opt_u64("source_event_id", event.source_event_id);
    out.str("instance_id", event.instance_id);
    out.u64("execution_id", event.execution_id);
    out.u64("timestamp_ms", event.timestamp_ms);
    out.str("duroxide_version", event.duroxide_version);
    out.key("type");
    out.raw().String(event.type_name());
    using namespace events;
    std::visit(
        Overloaded{
            [&](const OrchestrationStarted& e) {
                out.str("name", e.name);
                out.str("version", e.version);
                out.str("input", e.input);
                out.opt_str("parent_instance", e.parent_instance, false);
                out.opt_u64("parent_id", e.parent_id);
                if (e.carry_forward_events) {
                    out.pairs("carry_forward_events", *e.carry_forward_events);
                }
                out.opt_str("initial_custom_status", e.initial_custom_status, true);
                if (e.parent_execution_id) {
                    out.u64("parent_execution_id", *e.parent_execution_id);
                }
                out.opt_strings("open_sessions", e.open_sessions);
            },
            [&](const OrchestrationCompleted& e) { out.str("output", e.output); },
            [&](const OrchestrationFailed& e) { write_details_field(out, "details", e.details); },
            [&](const ActivityScheduled& e) {
                out.str("name", e.name);
                out.str("input", e.input);
                out.opt_str("session_id", e.session_id, true);
                out.opt_str("tag", e.tag, true);
            },
            [&](const ActivityCompleted& e) { out.str("result", e.result); },
            [&](const ActivityFailed& e) { write_details_field(out, "details", e.details); },
            [&](const ActivityCancelRequested& e) { out.str("reason", e.reason); },
            [&](const TimerCreated& e) { out.u64("fire_at_ms", e.fire_at_ms); },
            [&](const TimerFired& e) { out.u64("fire_at_ms", e.fire_at_ms); },
            [&](const ExternalSubscribed& e) { out.str("name", e.name); },
            [&](const ExternalEvent& e) {
                out.str("name", e.name);
                out.str("data", e.data);
            },
            [&](const OrchestrationChained& e) {
                out.str("name", e.name);
                out.str("instance", e.instance);
                out.str("input", e.input);
            },
            [&](const SubOrchestrationScheduled& e) {
                out.str("name", e.name);
                out.str("instance", e.instance);
                out.str("input", e.input);
            },
            [&](const SubOrchestrationCompleted& e) { out.str("result", e.result); },
            [&](const SubOrchestrationFailed& e) {
                write_details_field(out, "details", e.details);
            },
            [&](const SubOrchestrationCancelRequested& e) { out.str("reason", e.reason); },
            [&](const OrchestrationContinuedAsNew& e) { out.str("input", e.input); },
            [&](const OrchestrationCancelRequested& e) { out.str("reason", e.reason); },
            [&](const ExternalSubscribedCancelled& e) { out.str("reason", e.reason); },
            [&](const QueueSubscribed& e) { out.str("name", e.name); },
            [&](const QueueEventDelivered& e) {
                out.str("name", e.name);
                out.str("data", e.data);
            },
            [&](const QueueSubscriptionCancelled& e) { out.str("reason", e.reason); },
            [&](const CustomStatusUpdated& e) { out.opt_str("status", e.status, false); },
            [&](const KeyValueSet& e) {
                out.str("key", e.key);
                out.str("value", e.value);
                out.u64("last_updated_at_ms", e.last_updated_at_ms);
            },
            [&](const KeyValueCleared& e) { out.str("key", e.key); },
            [&](const KeyValuesCleared&) {},
            [&](const SessionOpened& e) { out.str("session_id", e.session_id); },
            [&](const SessionClosed& e) { out.str("session_id", e.session_id); },
        },
        event.kind);
}

void write_event(Out& out, const Event& event) {
    out.begin();
    write_event_fields(out, event);
    out.end();
}

void write_work_item(Out& out, const WorkItem& item) {
    using namespace work;
    out.tagged(item.type_name(), [&] {
        std::visit(Overloaded{
                       [&](const StartOrchestration& w) {
                           out.str("instance", w.instance);
                           out.str("orchestration", w.orchestration);
                           out.str("input", w.input);
                           out.opt_str("version", w.version, false);
                           out.opt_str("parent_instance", w.parent_instance, false);
                           out.opt_u64("parent_id", w.parent_id);
                           out.u64("execution_id", w.execution_id);
                           if (w.parent_execution_id) {
                               out.u64("parent_execution_id", *w.parent_execution_id);
                           }
                       },
                       [&](const ActivityExecute& w) {
                           out.str("instance", w.instance);
                           out.u64("execution_id", w.execution_id);
                           out.u64("id", w.id);
                           out.str("name", w.name);
                           out.str("input", w.input);
                           out.opt_str("session_id", w.session_id, true);
                           out.opt_str("tag", w.tag, true);
                       },
                       [&](const ActivityCompleted& w) {
                           out.str("instance", w.instance);
                           out.u64("execution_id", w.execution_id);
                           out.u64("id", w.id);
                           out.str("result", w.result);
                       },
                       [&](const ActivityFailed& w) {
                           out.str("instance", w.instance);
                           out.u64("execution_id", w.execution_id);
                           out.u64("id", w.id);
                           write_details_field(out, "details", w.details);
                       },
                       [&](const TimerFired& w) {
                           out.str("instance", w.instance);
                           out.u64("execution_id", w.execution_id);
                           out.u64("id", w.id);
                           out.u64("fire_at_ms", w.fire_at_ms);
                       },
                       [&](const ExternalRaised& w) {
                           out.str("instance", w.instance);
                           out.str("name", w.name);
                           out.str("data", w.data);
                       },
                       [&](const SubOrchCompleted& w) {
                           out.str("parent_instance", w.parent_instance);
                           out.u64("parent_execution_id", w.parent_execution_id);
                           out.u64("parent_id", w.parent_id);
                           out.str("result", w.result);
                       },
                       [&](const SubOrchFailed& w) {
                           out.str("parent_instance", w.parent_instance);
                           out.u64("parent_execution_id", w.parent_execution_id);
                           out.u64("parent_id", w.parent_id);
                           write_details_field(out, "details", w.details);
                       },
                       [&](const CancelInstance& w) {
                           out.str("instance", w.instance);
                           out.str("reason", w.reason);
                       },
                       [&](const work::ContinueAsNew& w) {
                           out.str("instance", w.instance);
                           out.str("orchestration", w.orchestration);
                           out.str("input", w.input);
                           out.opt_str("version", w.version, false);
                           out.pairs("carry_forward_events", w.carry_forward_events);
                           out.opt_str("initial_custom_status", w.initial_custom_status, true);
                           out.opt_strings("open_sessions", w.open_sessions);
                       },
                       [&](const QueueMessage& w) {
                           out.str("instance", w.instance);
                           out.str("name", w.name);
                           out.str("data", w.data);
                       },
                   },
                   item.kind);
    });
}

void write_action(Out& out, const Action& action) {
    using namespace actions;
    out.tagged(action_type_name(action), [&] {
        std::visit(Overloaded{
                       [&](const CallActivity& a) {
                           out.u64("scheduling_event_id", a.scheduling_event_id);
                           out.str("name", a.name);
                           out.str("input", a.input);
                           out.opt_str("session_id", a.session_id, true);
                           out.opt_str("tag", a.tag, true);
                       },
                       [&](const CreateTimer& a) {
                           out.u64("scheduling_event_id", a.scheduling_event_id);
                           out.u64("fire_at_ms", a.fire_at_ms);
                       },
                       [&](const WaitExternal& a) {
                           out.u64("scheduling_event_id", a.scheduling_event_id);
                           out.str("name", a.name);
                       },
                       [&](const StartOrchestrationDetached& a) {
                           out.u64("scheduling_event_id", a.scheduling_event_id);
                           out.str("name", a.name);
                           out.opt_str("version", a.version, false);
                           out.str("instance", a.instance);
                           out.str("input", a.input);
                       },
                       [&](const StartSubOrchestration& a) {
                           out.u64("scheduling_event_id", a.scheduling_event_id);
                           out.str("name", a.name);
                           out.opt_str("version", a.version, false);
                           out.str("instance", a.instance);
                           out.str("input", a.input);
                       },
                       [&](const actions::ContinueAsNew& a) {
                           out.str("input", a.input);
                           out.opt_str("version", a.version, false);
                       },
                       [&](const UpdateCustomStatus& a) { out.opt_str("status", a.status, false); },
                       [&](const DequeueEvent& a) {
                           out.u64("scheduling_event_id", a.scheduling_event_id);
                           out.str("name", a.name);
                       },
                       [&](const SetKeyValue& a) {
                           out.str("key", a.key);
                           out.str("value", a.value);
                           out.u64("last_updated_at_ms", a.last_updated_at_ms);
                       },
                       [&](const ClearKeyValue& a) { out.str("key", a.key); },
                       [&](const ClearKeyValues&) {},
                   },
                   action);
    });
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

ErrorDetails details_field(const In& in) {
    return read_error_details(in.need("details"));
}

EventKind read_event_kind(const In& in, const std::string& type) {
    using namespace events;
    if (type == "OrchestrationStarted") {
        return OrchestrationStarted{in.str("name"),
                                    in.str("version"),
                                    in.str("input"),
                                    in.opt_str("parent_instance"),
                                    in.opt_u64("parent_id"),
                                    in.opt_pairs("carry_forward_events"),
                                    in.opt_str("initial_custom_status"),
                                    in.opt_u64("parent_execution_id"),
                                    in.opt_strings("open_sessions")};
    }
    if (type == "OrchestrationCompleted")
        return OrchestrationCompleted{in.str("output")};
    if (type == "OrchestrationFailed")
        return OrchestrationFailed{details_field(in)};
    if (type == "ActivityScheduled") {
        return ActivityScheduled{in.str("name"), in.str("input"), in.opt_str("session_id"),
                                 in.opt_str("tag")};
    }
    if (type == "ActivityCompleted")
        return ActivityCompleted{in.str("result")};
    if (type == "ActivityFailed")
        return ActivityFailed{details_field(in)};
    if (type == "ActivityCancelRequested")
        return ActivityCancelRequested{in.str("reason")};
    if (type == "TimerCreated")
        return TimerCreated{in.u64("fire_at_ms")};
    if (type == "TimerFired")
        return TimerFired{in.u64("fire_at_ms")};
    if (type == "ExternalSubscribed")
        return ExternalSubscribed{in.str("name")};
    if (type == "ExternalEvent")
        return ExternalEvent{in.str("name"), in.str("data")};
    if (type == "OrchestrationChained") {
        return OrchestrationChained{in.str("name"), in.str("instance"), in.str("input")};
    }
    if (type == "SubOrchestrationScheduled") {
        return SubOrchestrationScheduled{in.str("name"), in.str("instance"), in.str("input")};
    }
    if (type == "SubOrchestrationCompleted")
        return SubOrchestrationCompleted{in.str("result")};
    if (type == "SubOrchestrationFailed")
        return SubOrchestrationFailed{details_field(in)};
    if (type == "SubOrchestrationCancelRequested") {
        return SubOrchestrationCancelRequested{in.str("reason")};
    }
    if (type == "OrchestrationContinuedAsNew")
        return OrchestrationContinuedAsNew{in.str("input")};
    if (type == "OrchestrationCancelRequested") {
        return OrchestrationCancelRequested{in.str("reason")};
    }
    if (type == "ExternalSubscribedCancelled")
        return ExternalSubscribedCancelled{in.str("reason")};
    if (type == "ExternalSubscribedPersistent")
        return QueueSubscribed{in.str("name")};
    if (type == "ExternalEventPersistent")
        return QueueEventDelivered{in.str("name"), in.str("data")};
    if (type == "ExternalSubscribedPersistentCancelled") {
        return QueueSubscriptionCancelled{in.str("reason")};
    }
    if (type == "CustomStatusUpdated")
        return CustomStatusUpdated{in.opt_str("status")};
    if (type == "KeyValueSet") {
        return KeyValueSet{in.str("key"), in.str("value"), in.u64("last_updated_at_ms")};
    }
    if (type == "KeyValueCleared")
        return KeyValueCleared{in.str("key")};
    if (type == "KeyValuesCleared")
        return KeyValuesCleared{};
    if (type == "SessionOpened")
        return SessionOpened{in.str("session_id")};
    if (type == "SessionClosed")
        return SessionClosed{in.str("session_id")};
    throw CodecError("Event: unknown type \"" + type + "\"");
}

Event read_event(const Value& v) {
    In in(v, "Event");
    Event event;
    event.event_id = in.u64("event_id");
    event.source_event_id = in.opt_u64("source_event_id");
    event.instance_id = in.str("instance_id");
    event.execution_id = in.u64("execution_id");
    event.timestamp_ms = in.u64("timestamp_ms");
    event.duroxide_version = in.str("duroxide_version");
    event.kind = read_event_kind(in, in.str("type"));
    return event;
}

WorkItem read_work_item(const Value& v) {
    using namespace work;
    auto tagged = external_tag(v, "WorkItem");
    const std::string& tag = tagged.first;
    In in(inner_object(tagged, "WorkItem"), "WorkItem");
    if (tag == "StartOrchestration") {
        return {StartOrchestration{in.str("instance"), in.str("orchestration"), in.str("input"),
                                   in.opt_str("version"), in.opt_str("parent_instance"),
                                   in.opt_u64("parent_id"), in.u64("execution_id"),
                                   in.opt_u64("parent_execution_id")}};
    }
    if (tag == "ActivityExecute") {
        return {ActivityExecute{in.str("instance"), in.u64("execution_id"), in.u64("id"),
                                in.str("name"), in.str("input"), in.opt_str("session_id"),
                                in.opt_str("tag")}};
    }
    if (tag == "ActivityCompleted") {
        return {ActivityCompleted{in.str("instance"), in.u64("execution_id"), in.u64("id"),
                                  in.str("result")}};
    }
    if (tag == "ActivityFailed") {
        return {ActivityFailed{in.str("instance"), in.u64("execution_id"), in.u64("id"),
                               details_field(in)}};
    }
    if (tag == "TimerFired") {
        return {TimerFired{in.str("instance"), in.u64("execution_id"), in.u64("id"),
                           in.u64("fire_at_ms")}};
    }
    if (tag == "ExternalRaised") {
        return {ExternalRaised{in.str("instance"), in.str("name"), in.str("data")}};
    }
    if (tag == "SubOrchCompleted") {
        return {SubOrchCompleted{in.str("parent_instance"), in.u64("parent_execution_id"),
                                 in.u64("parent_id"), in.str("result")}};
    }
    if (tag == "SubOrchFailed") {
        return {SubOrchFailed{in.str("parent_instance"), in.u64("parent_execution_id"),
                              in.u64("parent_id"), details_field(in)}};
    }
    if (tag == "CancelInstance")
        return {CancelInstance{in.str("instance"), in.str("reason")}};
    if (tag == "ContinueAsNew") {
        return {work::ContinueAsNew{
            in.str("instance"), in.str("orchestration"), in.str("input"), in.opt_str("version"),
            in.opt_pairs("carry_forward_events").value_or(CarryForwardEvents{}),
            in.opt_str("initial_custom_status"), in.opt_strings("open_sessions")}};
    }
    if (tag == "QueueMessage")
        return {QueueMessage{in.str("instance"), in.str("name"), in.str("data")}};
    throw CodecError("WorkItem: unknown variant \"" + tag + "\"");
}

Action read_action(const Value& v) {
    using namespace actions;
    auto tagged = external_tag(v, "Action");
    const std::string& tag = tagged.first;
    In in(inner_object(tagged, "Action"), "Action");
    if (tag == "CallActivity") {
        return CallActivity{in.u64("scheduling_event_id"), in.str("name"), in.str("input"),
                            in.opt_str("session_id"), in.opt_str("tag")};
    }
    if (tag == "CreateTimer")
        return CreateTimer{in.u64("scheduling_event_id"), in.u64("fire_at_ms")};
    if (tag == "WaitExternal")
        return WaitExternal{in.u64("scheduling_event_id"), in.str("name")};
    if (tag == "StartOrchestrationDetached") {
        return StartOrchestrationDetached{in.u64("scheduling_event_id"), in.str("name"),
                                          in.opt_str("version"), in.str("instance"),
                                          in.str("input")};
    }
    if (tag == "StartSubOrchestration") {
        return StartSubOrchestration{in.u64("scheduling_event_id"), in.str("name"),
                                     in.opt_str("version"), in.str("instance"), in.str("input")};
    }
    if (tag == "ContinueAsNew")
        return actions::ContinueAsNew{in.str("input"), in.opt_str("version")};
    if (tag == "UpdateCustomStatus")
        return UpdateCustomStatus{in.opt_str("status")};
    if (tag == "DequeueEvent")
        return DequeueEvent{in.u64("scheduling_event_id"), in.str("name")};
    if (tag == "SetKeyValue") {
        return SetKeyValue{in.str("key"), in.str("value"), in.u64("last_updated_at_ms")};
    }
    if (tag == "ClearKeyValue")
        return ClearKeyValue{in.str("key")};
    if (tag == "ClearKeyValues")
        return ClearKeyValues{};
    throw CodecError("Action: unknown variant \"" + tag + "\"");
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
