#include "core/engine/activity_runner.hpp"

#include "core/fiber/fiber.hpp"
#include "core/validation/identifiers.hpp"
#include "duroxide/activity_context.hpp"

#include <exception>

namespace duroxide::core {

namespace {

class Context final : public ActivityContext {
public:
    Context(const work::ActivityExecute& item, const ActivityEnvironment& environment)
        : item_(item), environment_(environment) {}
    const std::string& instance_id() const override { return item_.instance; }
    std::uint64_t execution_id() const override { return item_.execution_id; }
    const std::string& activity_name() const override { return item_.name; }
    std::uint64_t activity_id() const override { return item_.id; }
    const std::optional<std::string>& session_id() const override { return item_.session_id; }
    const std::optional<std::string>& tag() const override { return item_.tag; }
    const std::string& worker_id() const override { return environment_.worker_id; }

    void trace(TraceLevel level, std::string_view message) const override {
        if (environment_.trace) {
            environment_.trace(item_, level, message);
        }
    }

    SqlResult run_sql(std::string_view query,
                      std::vector<std::optional<std::string>> params) override {
        if (environment_.channel == nullptr) {
            throw std::logic_error("ctx.sql() needs an activity worker: this run has none");
        }
        return environment_.channel->sql(query, std::move(params));
    }
    void heartbeat() override {
        if (environment_.channel != nullptr) {
            environment_.channel->suspend();
        }
    }
    bool is_cancelled() override {
        return environment_.channel != nullptr && environment_.channel->suspend();
    }

protected:
    std::shared_ptr<void>
    session_state_entry(std::string_view key,
                        const std::function<std::shared_ptr<void>()>& make) override {
        if (!item_.session_id) {
            throw std::logic_error("activity " + item_.name +
                                   " has no session: schedule it with "
                                   "schedule_activity_on_session to keep session state");
        }
        if (environment_.session_states == nullptr) {
            throw std::logic_error("this worker keeps no session state");
        }
        return environment_.session_states->get_or_make(
            session_state_key(item_.instance, *item_.session_id), key, make);
    }

private:
    const work::ActivityExecute& item_;
    const ActivityEnvironment& environment_;
};

} // namespace

WorkItem run_activity(const ActivityFn& handler, const work::ActivityExecute& item,
                      const ActivityEnvironment& environment) {
    Context context(item, environment);
    try {
        std::string output = handler(context, item.input);
        if (const auto problem =
                output_limit_problem("activity", item.name, output, environment.max_output_bytes)) {
            return {work::ActivityFailed{.instance = item.instance,
                                         .execution_id = item.execution_id,
                                         .id = item.id,
                                         .details = ErrorDetails::activity_failed(*problem)}};
        }
        return {work::ActivityCompleted{.instance = item.instance,
                                        .execution_id = item.execution_id,
                                        .id = item.id,
                                        .result = std::move(output)}};
    } catch (const std::exception& e) {
        return {work::ActivityFailed{.instance = item.instance,
                                     .execution_id = item.execution_id,
                                     .id = item.id,
                                     .details = ErrorDetails::activity_failed(e.what())}};
    } catch (...) {
        if (is_forced_unwind()) {
            throw; // the fiber is being unwound (cancelled past its grace period)
        }
        return {work::ActivityFailed{
            .instance = item.instance,
            .execution_id = item.execution_id,
            .id = item.id,
            .details = ErrorDetails::activity_failed("activity threw a non-standard exception")}};
    }
}

} // namespace duroxide::core
