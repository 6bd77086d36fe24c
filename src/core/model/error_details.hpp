// ErrorDetails: why an activity, a sub-orchestration or an orchestration failed. Four
// categories, as in duroxide: only Application errors reach orchestration code; the others
// abort the turn and fail the orchestration.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace duroxide::core {

struct InfrastructureError {
    std::string operation;
    std::string message;
    bool retryable = false;
    bool operator==(const InfrastructureError&) const = default;
};

enum class ConfigErrorKind { Nondeterminism };

struct ConfigurationError {
    ConfigErrorKind kind = ConfigErrorKind::Nondeterminism;
    std::string resource;
    std::optional<std::string> message;
    bool operator==(const ConfigurationError&) const = default;
};

struct AppActivityFailed {
    bool operator==(const AppActivityFailed&) const = default;
};
struct AppOrchestrationFailed {
    bool operator==(const AppOrchestrationFailed&) const = default;
};
struct AppPanicked {
    bool operator==(const AppPanicked&) const = default;
};
struct AppCancelled {
    std::string reason;
    bool operator==(const AppCancelled&) const = default;
};
using AppErrorKind =
    std::variant<AppActivityFailed, AppOrchestrationFailed, AppPanicked, AppCancelled>;

// What PostgreSQL reported when an SQL activity's function raised (an extension of
// duroxide's shape: written only when set, so duroxide's readers ignore it).
struct SqlErrorFields {
    std::string sqlstate; // five characters, e.g. "23505"
    std::optional<std::string> detail, hint, context;
    bool operator==(const SqlErrorFields&) const = default;
};

struct ApplicationError {
    AppErrorKind kind;
    std::string message;
    bool retryable = false;
    std::optional<SqlErrorFields> sql;
    bool operator==(const ApplicationError&) const = default;
};

struct PoisonOrchestration {
    std::string instance;
    uint64_t execution_id = 0;
    bool operator==(const PoisonOrchestration&) const = default;
};
struct PoisonActivity {
    std::string instance;
    uint64_t execution_id = 0;
    std::string activity_name;
    uint64_t activity_id = 0;
    bool operator==(const PoisonActivity&) const = default;
};
struct PoisonFailedDeserialization {
    std::string instance;
    uint64_t execution_id = 0;
    std::string error;
    bool operator==(const PoisonFailedDeserialization&) const = default;
};
using PoisonMessageType =
    std::variant<PoisonOrchestration, PoisonActivity, PoisonFailedDeserialization>;

struct PoisonError {
    uint32_t attempt_count = 0;
    uint32_t max_attempts = 0;
    PoisonMessageType message_type;
    std::string message;
    bool operator==(const PoisonError&) const = default;
};

struct ErrorDetails {
    std::variant<InfrastructureError, ConfigurationError, ApplicationError, PoisonError> value;

    // "infrastructure", "configuration", "application" or "poison".
    const char* category() const;
    // What orchestration code sees for an Application error, and what status shows:
    //   infrastructure:{operation}: {message} | nondeterministic: {message} |
    //   {message} / canceled: {reason} / orchestration panicked: {message} |
    //   poison: orchestration {instance} exceeded {attempt_count} attempts (max {max}) |
    //   poison: activity {name}#{id} exceeded ... | poison: {message} (attempt n of max m)
    //   (a history that does not decode)
    std::string display_message() const;
    bool is_retryable() const;

    static ErrorDetails application(AppErrorKind kind, std::string message, bool retryable = false);
    static ErrorDetails activity_failed(std::string message);
    static ErrorDetails orchestration_failed(std::string message);
    static ErrorDetails cancelled(std::string reason);
    static ErrorDetails nondeterminism(std::string message);
    static ErrorDetails infrastructure(std::string operation, std::string message,
                                       bool retryable = false);

    bool operator==(const ErrorDetails&) const = default;
};

} // namespace duroxide::core
