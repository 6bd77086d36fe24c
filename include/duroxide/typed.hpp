// Typed orchestration and activity code: values instead of strings at the edges.
//
// duroxide moves strings: inputs, outputs, events and messages. Codec<T> turns a T into that
// text and back. std::string passes through unchanged; bool and arithmetic types are written
// as JSON text ("true", "42", "2.5"); any other type gets its own specialization:
//
//   template <> struct duroxide::Codec<Point> {
//       static std::string encode(const Point& p);
//       static Point decode(std::string_view text); // throws CodecError on bad text
//   };
//
// The wrappers below schedule the same durable work as the untyped calls (the history is the
// same), encode inputs and decode results. A result that does not decode throws CodecError,
// which, uncaught, fails the orchestration with a message saying what could not be decoded.
// Header-only: nothing here changes the plugin ABI.
#pragma once

#include "duroxide/activity_context.hpp"
#include "duroxide/orchestration_context.hpp"
#include "duroxide/registry.hpp"

#include <charconv>
#include <cmath>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace duroxide {

// Text that does not decode as the type asked for.
class CodecError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The customization point: specialize for your types (encode and decode, both static).
template <class T, class Enable = void>
struct Codec {
    static_assert(sizeof(T) == 0, "duroxide::Codec<T> is not specialized for this type: "
                                  "specialize it with static encode() and decode()");
};

template <>
struct Codec<std::string> {
    static std::string encode(const std::string& value) { return value; }
    static std::string decode(std::string_view text) { return std::string(text); }
};

template <>
struct Codec<bool> {
    static std::string encode(bool value) { return value ? "true" : "false"; }
    static bool decode(std::string_view text) {
        if (text == "true") {
            return true;
        }
        if (text == "false") {
            return false;
        }
        throw CodecError("expected true or false, got \"" + std::string(text) + "\"");
    }
};

// Integers and floating point numbers as JSON numbers: the whole text must be the number.
template <class T>
struct Codec<T, std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>>> {
    static std::string encode(T value) {
        if constexpr (std::is_floating_point_v<T>) {
            if (!std::isfinite(value)) {
                throw CodecError("a JSON number cannot be infinite or NaN");
            }
        }
        char buffer[64];
        const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
        if (error != std::errc()) {
            throw CodecError("number does not fit the buffer");
        }
        return std::string(buffer, end);
    }
    static T decode(std::string_view text) {
        T value{};
        const char* first = text.data();
        const char* last = text.data() + text.size();
        const auto [end, error] = std::from_chars(first, last, value);
        if (error == std::errc::result_out_of_range) {
            throw CodecError("number out of range: \"" + std::string(text) + "\"");
        }
        bool valid = error == std::errc() && end == last && !text.empty();
        if constexpr (std::is_floating_point_v<T>) {
            valid = valid && std::isfinite(value); // from_chars takes "nan" and "inf"
        }
        if (!valid) {
            throw CodecError(std::string("expected ") +
                             (std::is_integral_v<T> ? "an integer" : "a number") + ", got \"" +
                             std::string(text) + "\"");
        }
        return value;
    }
};

template <class T>
std::string encode_value(const T& value) {
    return Codec<T>::encode(value);
}

// Decodes `text`; a failure says what was being decoded (`what`).
template <class T>
T decode_value(std::string_view text, std::string_view what) {
    try {
        return Codec<T>::decode(text);
    } catch (const CodecError& e) {
        throw CodecError("cannot decode " + std::string(what) + ": " + e.what());
    }
}

// A DurableFuture whose result decodes to T.
template <class T>
class TypedFuture {
public:
    TypedFuture(DurableFuture future, std::string what) : future_(future), what_(std::move(what)) {}

    // The untyped handle, for select() and join() over mixed futures.
    const DurableFuture& untyped() const { return future_; }
    // Waits; the decoded value, TaskFailed when the work failed, CodecError when the result
    // does not decode.
    T value() const { return decode_value<T>(future_.value(), what_); }
    // Waits; the decoded value, or the error message of the failed work.
    std::optional<T> value_or_error(std::string& error) const {
        const Outcome outcome = future_.get();
        if (!outcome.ok()) {
            error = outcome.error();
            return std::nullopt;
        }
        return decode_value<T>(outcome.value(), what_);
    }
    bool ready() const { return future_.ready(); }
    void cancel() const { future_.cancel(); }

private:
    DurableFuture future_;
    std::string what_;
};

template <class Out, class In>
TypedFuture<Out> schedule_activity_typed(OrchestrationContext& ctx, std::string_view name,
                                         const In& input) {
    return TypedFuture<Out>(ctx.schedule_activity(name, encode_value(input)),
                            "the result of activity " + std::string(name));
}

// The same, pinned to session `session_id` (see OrchestrationContext::open_session).
template <class Out, class In>
TypedFuture<Out> schedule_activity_on_session_typed(OrchestrationContext& ctx,
                                                    std::string_view name, const In& input,
                                                    std::string_view session_id) {
    return TypedFuture<Out>(ctx.schedule_activity_on_session(name, encode_value(input), session_id),
                            "the result of activity " + std::string(name));
}

template <class Out, class In>
TypedFuture<Out>
schedule_sub_orchestration_typed(OrchestrationContext& ctx, std::string_view name, const In& input,
                                 std::optional<std::string_view> instance = std::nullopt,
                                 std::optional<std::string_view> version = std::nullopt) {
    return TypedFuture<Out>(
        ctx.schedule_sub_orchestration(name, encode_value(input), instance, version),
        "the output of sub-orchestration " + std::string(name));
}

template <class T>
TypedFuture<T> schedule_wait_typed(OrchestrationContext& ctx, std::string_view name) {
    return TypedFuture<T>(ctx.schedule_wait(name), "event " + std::string(name));
}

template <class T>
TypedFuture<T> dequeue_event_typed(OrchestrationContext& ctx, std::string_view queue) {
    return TypedFuture<T>(ctx.dequeue_event(queue), "a message of queue " + std::string(queue));
}

template <class In>
[[noreturn]] void continue_as_new_typed(OrchestrationContext& ctx, const In& input) {
    ctx.continue_as_new(encode_value(input));
    throw std::logic_error("continue_as_new returned"); // the compiler cannot see it does not
}

// Registers `fn`, callable as Out(OrchestrationContext&, const In&), as version `version` of
// orchestration `name`: its input is decoded (a bad input fails the orchestration), its
// output encoded.
template <class In, class F>
void register_orchestration_typed(OrchestrationRegistry& registry, std::string name, F fn,
                                  std::string_view version = "1.0.0") {
    using Out = std::decay_t<std::invoke_result_t<F&, OrchestrationContext&, const In&>>;
    std::string what = "the input of orchestration " + name;
    registry.register_versioned(std::move(name), version,
                                [fn = std::move(fn), what = std::move(what)](
                                    OrchestrationContext& ctx, const std::string& input) mutable {
                                    const In decoded = decode_value<In>(input, what);
                                    return encode_value<Out>(fn(ctx, decoded));
                                });
}

// Registers `fn`, callable as Out(ActivityContext&, const In&), as activity `name`: a bad
// input fails the activity (an application error the orchestration sees).
template <class In, class F>
void register_activity_typed(ActivityRegistry& registry, std::string name, F fn) {
    using Out = std::decay_t<std::invoke_result_t<F&, ActivityContext&, const In&>>;
    std::string what = "the input of activity " + name;
    registry.register_activity(std::move(name),
                               [fn = std::move(fn), what = std::move(what)](
                                   ActivityContext& ctx, const std::string& input) mutable {
                                   const In decoded = decode_value<In>(input, what);
                                   return encode_value<Out>(fn(ctx, decoded));
                               });
}

} // namespace duroxide
