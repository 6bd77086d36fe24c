#include "core/sessions/session_states.hpp"

namespace duroxide::core {

std::shared_ptr<void>
SessionStates::get_or_make(const std::string& session, std::string_view key,
                           const std::function<std::shared_ptr<void>()>& make) {
    auto& objects = sessions_[session];
    auto found = objects.find(key);
    if (found != objects.end()) {
        return found->second;
    }
    std::shared_ptr<void> made = make();
    objects.emplace(std::string(key), made);
    return made;
}

void SessionStates::drop(const std::string& session) {
    sessions_.erase(session);
}

std::size_t SessionStates::keep_only(const std::set<std::string>& kept) {
    std::size_t dropped = 0;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        if (kept.count(it->first) == 0) {
            it = sessions_.erase(it);
            ++dropped;
        } else {
            ++it;
        }
    }
    return dropped;
}

std::vector<std::string> SessionStates::sessions() const {
    std::vector<std::string> names;
    for (const auto& [session, objects] : sessions_) {
        names.push_back(session);
    }
    return names;
}

} // namespace duroxide::core
