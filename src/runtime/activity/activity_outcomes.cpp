#include "runtime/activity/activity_outcomes.hpp"

#include "pg/guard.hpp"
#include "runtime/services/metrics.hpp"

namespace duroxide::runtime {

std::string activity_message_label(const core::work::ActivityExecute& item) {
    return "activity " + item.name + " #" + std::to_string(item.id) + " of \"" + item.instance +
           "\"";
}

void give_back_activity(core::provider::ActivityProvider& provider,
                        const core::provider::ActivityItem& item, std::string_view why) {
    metrics::add(metrics::Counter::ActivitiesFailedInfrastructure);
    const std::string message =
        "duroxide: " + activity_message_label(item.item) + " given back: " + std::string(why);
    pg::call([&message] { ereport(WARNING, (errmsg_internal("%s", message.c_str()))); });
    provider.abandon_work_item(item, kRetryAfterFailureMs, false);
}

} // namespace duroxide::runtime
