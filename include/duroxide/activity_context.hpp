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
#include <type_traits>
#include <vector>

namespace duroxide {

// What ActivityContext::sql() returns: the rows of the statement (values in text form,
// std::nullopt for NULL) with the column names, and the rows it affected or returned.
struct SqlResult {
    std::vector<std::string> columns;
    std::vector<std::vector<std::optional<std::string>>> rows;
    std::uint64_t affected = 0;
};

// An SQL error of a statement run by ActivityContext::sql(). The statement ran in a
// subtransaction that was rolled back: the activity may catch this and go on (its earlier
// statements stand), or let it escape and fail.
class ActivitySqlError : public std::runtime_error {
public:
    ActivitySqlError(std::string message, std::string sqlstate)
        : std::runtime_error(std::move(message)), sqlstate_(std::move(sqlstate)) {}
    // The five-character SQLSTATE, e.g. "23505".
    const std::string& sqlstate() const noexcept { return sqlstate_; }

private:
    std::string sqlstate_;
};

// Thrown by ActivityContext::sql() once the activity is cancelled: nothing it writes can
// commit any more. Return (any result is dropped) or let it escape.
class ActivityCancelled : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

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

    // Runs one SQL statement in the transaction that will record this activity's completion,
    // as the role that registered the plugin, with `params` bound as text to $1..$n (cast in
    // SQL: `$1::int`). Its writes commit exactly when the completion commits: they roll back
    // if the activity fails, is cancelled, loses its lease, or the worker dies. An SQL error
    // is thrown as ActivitySqlError (the transaction stays usable); after cancellation it
    // throws ActivityCancelled. Do not call it from a catch block or a destructor.
    template <class... Params>
    SqlResult sql(std::string_view query, const Params&... params) {
        return run_sql(query, std::vector<std::optional<std::string>>{sql_param(params)...});
    }
    virtual SqlResult run_sql(std::string_view query,
                              std::vector<std::optional<std::string>> params) = 0;

    // A suspension point for long activities: the worker renews the activity's lease (and
    // its session's) when due and checks for cancellation. Call it in long loops at least
    // once per duroxide.worker_lock_timeout / 2.
    virtual void heartbeat() = 0;
    // Whether the activity was cancelled (its orchestration no longer wants the result, or
    // its lease was lost): return soon, the result is dropped. Also a suspension point like
    // heartbeat(). An activity that runs on past duroxide.activity_cancellation_grace_period
    // is unwound (its destructors run) at its next suspension point.
    virtual bool is_cancelled() = 0;

protected:
    static std::optional<std::string> sql_param(const std::optional<std::string>& value) {
        return value;
    }
    static std::optional<std::string> sql_param(std::nullopt_t) { return std::nullopt; }
    static std::optional<std::string> sql_param(std::string_view value) {
        return std::string(value);
    }
    static std::optional<std::string> sql_param(const std::string& value) { return value; }
    static std::optional<std::string> sql_param(const char* value) { return std::string(value); }
    template <class Number>
    requires std::is_arithmetic_v<Number>
    static std::optional<std::string> sql_param(Number value) { return std::to_string(value); }

    // The session's state object under `key`, made by `make` when absent.
    virtual std::shared_ptr<void>
    session_state_entry(std::string_view key,
                        const std::function<std::shared_ptr<void>()>& make) = 0;
};

} // namespace duroxide
