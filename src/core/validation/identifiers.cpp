#include "core/validation/identifiers.hpp"

namespace duroxide::core {

std::optional<std::string> identifier_problem(std::string_view value) {
    if (value.empty()) {
        return "must not be empty";
    }
    if (value.size() > kMaxIdentifierBytes) {
        return "is too long (" + std::to_string(value.size()) + " bytes, the limit is " +
               std::to_string(kMaxIdentifierBytes) + ")";
    }
    for (unsigned char c : value) {
        if (c < 0x20 || c == 0x7f) {
            return "must not contain control characters";
        }
    }
    return std::nullopt;
}

std::optional<std::string> plugin_name_problem(std::string_view value) {
    if (value.empty() || value.size() > kMaxPluginNameBytes) {
        return "must be 1 to " + std::to_string(kMaxPluginNameBytes) + " characters";
    }
    if (value.front() == '-') {
        return "must not start with '-'";
    }
    for (char c : value) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!allowed) {
            return "may contain only letters, digits, '_' and '-'";
        }
    }
    return std::nullopt;
}

std::optional<std::string> payload_problem(std::string_view value, std::size_t limit_bytes) {
    if (value.size() > limit_bytes) {
        return "is too large (" + std::to_string(value.size()) + " bytes, the limit is " +
               std::to_string(limit_bytes) + ")";
    }
    return std::nullopt;
}

std::optional<std::string> output_limit_problem(std::string_view kind, std::string_view name,
                                                std::string_view output, std::size_t limit_bytes) {
    if (limit_bytes == 0 || output.size() <= limit_bytes) {
        return std::nullopt;
    }
    return "output of " + std::string(kind) + " \"" + std::string(name.substr(0, 64)) +
           "\" is too large (" + std::to_string(output.size()) + " bytes, the limit is " +
           std::to_string(limit_bytes) + " bytes, duroxide.max_payload_size)";
}

} // namespace duroxide::core
