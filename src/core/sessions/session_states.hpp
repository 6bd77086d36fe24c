// The state an activity worker keeps per session it owns (ActivityContext::session_state):
// objects keyed by session (session_state_key: sessions belong to their instance) and type
// key, dropped when the session leaves the worker.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace duroxide::core {

// The key of a session's state: its instance and id (two instances may use one id).
inline std::string session_state_key(std::string_view instance, std::string_view session) {
    std::string key(instance);
    key += '\x1f';
    key += session;
    return key;
}

class SessionStates {
public:
    // The object of `session` under `key`, made by `make` when absent.
    std::shared_ptr<void> get_or_make(const std::string& session, std::string_view key,
                                      const std::function<std::shared_ptr<void>()>& make);
    // Destroys the state of `session` (no-op when it has none).
    void drop(const std::string& session);
    // Destroys the state of every session not in `kept`; returns how many were dropped.
    std::size_t keep_only(const std::set<std::string>& kept);

    bool holds(const std::string& session) const { return sessions_.count(session) != 0; }
    bool empty() const { return sessions_.empty(); }
    std::vector<std::string> sessions() const;

private:
    std::map<std::string, std::map<std::string, std::shared_ptr<void>, std::less<>>> sessions_;
};

} // namespace duroxide::core
