#include "core/dispatch/activity_dispatcher.hpp"

#include "core/codec/json_codec.hpp"
#include "core/dispatch/unregistered.hpp"

namespace duroxide::core::dispatch {

WorkItem activity_poison(const work::ActivityExecute& item, uint32_t attempt, uint32_t max_attempts,
                         bool handler_known) {
    return WorkItem{work::ActivityFailed{
        item.instance, item.execution_id, item.id,
        ErrorDetails{PoisonError{
            attempt, max_attempts,
            PoisonActivity{item.instance, item.execution_id, item.name, item.id},
            handler_known ? codec::encode(WorkItem{item}) : unregistered_activity(item.name)}}}};
}

int64_t unregistered_activity_delay_ms(uint32_t attempt, const ActivityDispatchSettings& settings) {
    return unregistered_backoff(attempt, settings.unregistered_backoff).count();
}

ActivityStep dispatch_one_activity(provider::ActivityProvider& provider,
                                   const ActivityRegistry& activities, const TagFilter& tags,
                                   const ActivityDispatchSettings& settings,
                                   const ActivityEnvironment& environment,
                                   const std::function<void(const provider::ActivityItem&)>& ran) {
    std::optional<provider::ActivityItem> fetched = provider.fetch_work_item(tags);
    if (!fetched) {
        return ActivityStep::Idle;
    }
    const work::ActivityExecute& item = fetched->item;
    const ActivityFn* handler = activities.find(item.name);
    if (fetched->attempt_count > settings.max_attempts) {
        provider.ack_work_item(*fetched,
                               activity_poison(item, fetched->attempt_count, settings.max_attempts,
                                               handler != nullptr));
        return ActivityStep::Poisoned;
    }
    if (handler == nullptr) {
        provider.abandon_work_item(
            *fetched, unregistered_activity_delay_ms(fetched->attempt_count, settings), false);
        return ActivityStep::BackedOff;
    }
    if (ran) {
        ran(*fetched);
    }
    provider.ack_work_item(*fetched, run_activity(*handler, item, environment));
    return ActivityStep::Ran;
}

} // namespace duroxide::core::dispatch
