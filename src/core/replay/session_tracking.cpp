#include "core/replay/session_tracking.hpp"

#include "duroxide/orchestration_context.hpp"

namespace duroxide::core {

void SessionTracking::start(const std::optional<std::vector<std::string>>& carried) {
    explicit_ = carried.has_value();
    open_.clear();
    if (carried) {
        open_.insert(carried->begin(), carried->end());
    }
}

std::optional<std::string> SessionTracking::open_problem(std::string_view session,
                                                         std::size_t max_open) const {
    if (session.empty() || session.size() > OrchestrationContext::kMaxSessionIdBytes) {
        return "session id of " + std::to_string(session.size()) +
               " bytes: a session id has 1 to " +
               std::to_string(OrchestrationContext::kMaxSessionIdBytes) + " bytes";
    }
    if (is_open(session)) {
        return std::nullopt;
    }
    if (open_.size() >= max_open) {
        return "cannot open session \"" + std::string(session.substr(0, 64)) +
               "\": " + std::to_string(open_.size()) + " sessions are open, the limit is " +
               std::to_string(max_open) + " (duroxide.max_open_sessions)";
    }
    return std::nullopt;
}

void SessionTracking::opened(std::string_view session) {
    explicit_ = true;
    open_.emplace(session);
}

void SessionTracking::closed(std::string_view session) {
    if (auto it = open_.find(session); it != open_.end()) {
        open_.erase(it);
    }
}

std::optional<std::string> SessionTracking::schedule_problem(std::string_view session) const {
    if (!explicit_ || is_open(session)) {
        return std::nullopt;
    }
    return "activity scheduled on session \"" + std::string(session.substr(0, 64)) +
           "\", which is not open in this instance (open it with open_session_with_id)";
}

std::optional<std::vector<std::string>> SessionTracking::carried() const {
    if (!explicit_) {
        return std::nullopt;
    }
    return std::vector<std::string>(open_.begin(), open_.end());
}

std::string generated_session_id(uint64_t execution_id, uint64_t event_id) {
    return "session-" + std::to_string(execution_id) + "-" + std::to_string(event_id);
}

} // namespace duroxide::core
