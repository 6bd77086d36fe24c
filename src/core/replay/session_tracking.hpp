// The explicit sessions of one execution as its code opens and closes them (replayed in code
// order, so the set is the same on every replay). Implicit and explicit sessions coexist per
// instance: until the instance opens a session (in this execution or one it continued from),
// it is in implicit mode and any session id may be scheduled on, as before explicit sessions
// existed; from its first open on, it is in explicit mode and only open sessions may be.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace duroxide::core {

class SessionTracking {
public:
    // The sessions the previous execution left open (OrchestrationStarted::open_sessions):
    // present, even empty, means explicit mode.
    void start(const std::optional<std::vector<std::string>>& carried);

    bool explicit_mode() const { return explicit_; }
    bool is_open(std::string_view session) const { return open_.count(session) != 0; }
    std::size_t open_count() const { return open_.size(); }

    // Why session `session` may not be opened now (bad id, or `max_open` already open), or
    // nullopt. Opening an open session is always allowed (a no-op).
    std::optional<std::string> open_problem(std::string_view session, std::size_t max_open) const;
    void opened(std::string_view session);
    void closed(std::string_view session);

    // Why an activity may not be scheduled on `session` (explicit mode and not open).
    std::optional<std::string> schedule_problem(std::string_view session) const;

    // What continue-as-new carries to the next execution: the open sessions (sorted), or
    // nullopt in implicit mode.
    std::optional<std::vector<std::string>> carried() const;

private:
    bool explicit_ = false;
    std::set<std::string, std::less<>> open_;
};

// The id open_session() gives: unique within the instance (one event id per execution) and
// the same on every replay.
std::string generated_session_id(uint64_t execution_id, uint64_t event_id);

} // namespace duroxide::core
