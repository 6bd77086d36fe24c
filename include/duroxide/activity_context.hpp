// What activity code sees. An activity is the side effect of an orchestration: it may do
// anything, runs at least once (a crash before its completion is recorded runs it again), and
// returns its result or throws to fail (the orchestration sees the exception's message).
#pragma once

#include "duroxide/trace.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>

namespace duroxide {

class ActivityContext {
public:
    virtual ~ActivityContext() = default;
    virtual const std::string& instance_id() const = 0;
    virtual std::uint64_t execution_id() const = 0;
    virtual const std::string& activity_name() const = 0;
    // The id of the ActivityScheduled event this run answers.
    virtual std::uint64_t activity_id() const = 0;
    virtual const std::optional<std::string>& session_id() const = 0;
    virtual const std::optional<std::string>& tag() const = 0;
    // The stable id of the worker running this activity (its session owner id):
    // "<duroxide.worker_node_id>/<database oid>/<activity worker index>".
    virtual const std::string& worker_id() const = 0;

    // Writes to the server log with instance, execution and activity name (every run).
    virtual void trace(TraceLevel level, std::string_view message) const = 0;
    void trace_debug(std::string_view message) const { trace(TraceLevel::Debug, message); }
    void trace_info(std::string_view message) const { trace(TraceLevel::Info, message); }
    void trace_warn(std::string_view message) const { trace(TraceLevel::Warn, message); }
    void trace_error(std::string_view message) const { trace(TraceLevel::Error, message); }

    // State this worker process keeps for the activity's session, one object per type T:
    // made by `make` on first use, destroyed when the session is unpinned from this worker
    // (idle, released, claimed elsewhere) or the worker stops. Activities of one session run
    // one at a time on its worker, so the object needs no locking. Throws std::logic_error
    // for an activity scheduled without a session.
    template <class T>
    T& session_state(const std::function<std::shared_ptr<T>()>& make) {
        std::shared_ptr<void> state = session_state_entry(
            typeid(T).name(), [&make]() -> std::shared_ptr<void> { return make(); });
        return *static_cast<T*>(state.get());
    }
    template <class T>
    T& session_state() {
        return session_state<T>([] { return std::make_shared<T>(); });
    }

protected:
    // The session's state object under `key`, made by `make` when absent.
    virtual std::shared_ptr<void>
    session_state_entry(std::string_view key,
                        const std::function<std::shared_ptr<void>()>& make) = 0;
};

} // namespace duroxide
