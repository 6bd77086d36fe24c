#include "core/model/error_details.hpp"

namespace duroxide::core {

namespace {
template <class... Ts>
struct Overloaded : Ts... {
    using Ts::operator()...;
};
} // namespace

const char* ErrorDetails::category() const {
    return std::visit(Overloaded{
                          [](const InfrastructureError&) { return "infrastructure"; },
                          [](const ConfigurationError&) { return "configuration"; },
                          [](const ApplicationError&) { return "application"; },
                          [](const PoisonError&) { return "poison"; },
                      },
                      value);
}

std::string ErrorDetails::display_message() const {
    return std::visit(
        Overloaded{
            [](const InfrastructureError& e) {
                return "infrastructure:" + e.operation + ": " + e.message;
            },
            [](const ConfigurationError& e) {
                return "nondeterministic: " + e.message.value_or(e.resource);
            },
            [](const ApplicationError& e) {
                return std::visit(
                    Overloaded{
                        [&](const AppCancelled& c) { return "canceled: " + c.reason; },
                        [&](const AppPanicked&) { return "orchestration panicked: " + e.message; },
                        [&](const auto&) { return e.message; },
                    },
                    e.kind);
            },
            [](const PoisonError& e) {
                // duroxide's display texts; the batch or item itself stays in `message`.
                const std::string tail = " exceeded " + std::to_string(e.attempt_count) +
                                         " attempts (max " + std::to_string(e.max_attempts) + ")";
                return std::visit(Overloaded{
                                      [&](const PoisonOrchestration& o) {
                                          return "poison: orchestration " + o.instance + tail;
                                      },
                                      [&](const PoisonActivity& a) {
                                          return "poison: activity " + a.activity_name + "#" +
                                                 std::to_string(a.activity_id) + tail;
                                      },
                                      [&](const PoisonFailedDeserialization&) {
                                          return "poison: " + e.message + " (attempt " +
                                                 std::to_string(e.attempt_count) + " of max " +
                                                 std::to_string(e.max_attempts) + ")";
                                      },
                                  },
                                  e.message_type);
            },
        },
        value);
}

bool ErrorDetails::is_retryable() const {
    return std::visit(Overloaded{
                          [](const InfrastructureError& e) { return e.retryable; },
                          [](const ConfigurationError&) { return false; },
                          [](const ApplicationError& e) { return e.retryable; },
                          [](const PoisonError&) { return false; },
                      },
                      value);
}

ErrorDetails ErrorDetails::application(AppErrorKind kind, std::string message, bool retryable) {
    return {ApplicationError{.kind = std::move(kind),
                             .message = std::move(message),
                             .retryable = retryable,
                             .sql = std::nullopt}};
}
ErrorDetails ErrorDetails::activity_failed(std::string message) {
    return application(AppActivityFailed{}, std::move(message));
}
ErrorDetails ErrorDetails::orchestration_failed(std::string message) {
    return application(AppOrchestrationFailed{}, std::move(message));
}
ErrorDetails ErrorDetails::cancelled(std::string reason) {
    return application(AppCancelled{std::move(reason)}, "");
}
ErrorDetails ErrorDetails::nondeterminism(std::string message) {
    return {ConfigurationError{ConfigErrorKind::Nondeterminism, "", std::move(message)}};
}
ErrorDetails ErrorDetails::infrastructure(std::string operation, std::string message,
                                          bool retryable) {
    return {InfrastructureError{std::move(operation), std::move(message), retryable}};
}

} // namespace duroxide::core
