#include "core/engine/activity_runner.hpp"

#include "duroxide/activity_context.hpp"

#include <exception>

namespace duroxide::core {

namespace {

class Context final : public ActivityContext {
public:
    explicit Context(const work::ActivityExecute& item) : item_(item) {}
    const std::string& instance_id() const override { return item_.instance; }
    std::uint64_t execution_id() const override { return item_.execution_id; }
    const std::string& activity_name() const override { return item_.name; }
    std::uint64_t activity_id() const override { return item_.id; }
    const std::optional<std::string>& session_id() const override { return item_.session_id; }
    const std::optional<std::string>& tag() const override { return item_.tag; }

private:
    const work::ActivityExecute& item_;
};

} // namespace

WorkItem run_activity(const ActivityFn& handler, const work::ActivityExecute& item) {
    Context context(item);
    try {
        return {work::ActivityCompleted{item.instance, item.execution_id, item.id,
                                        handler(context, item.input)}};
    } catch (const std::exception& e) {
        return {work::ActivityFailed{item.instance, item.execution_id, item.id,
                                     ErrorDetails::activity_failed(e.what())}};
    } catch (...) {
        return {work::ActivityFailed{
            item.instance, item.execution_id, item.id,
            ErrorDetails::activity_failed("activity threw a non-standard exception")}};
    }
}

} // namespace duroxide::core
