#include "runtime/activity/activity_outcomes.hpp"

#include "pg/guard.hpp"
#include "pg/transaction.hpp"
#include "runtime/services/metrics.hpp"
#include "runtime/process/unit_of_work.hpp"

namespace duroxide::runtime {

std::string activity_message_label(const core::work::ActivityExecute& item) {
    return "activity " + item.name + " #" + std::to_string(item.id) + " of \"" + item.instance +
           "\"";
}

void give_back_activity(const store::FetchedActivity& fetched, std::string_view why) {
    metrics::add(metrics::Counter::ActivitiesFailedInfrastructure);
    const std::string message =
        "duroxide: " + activity_message_label(fetched.item) + " given back: " + std::string(why);
    pg::call([&message] { ereport(WARNING, (errmsg_internal("%s", message.c_str()))); });
    pg::WorkerTransaction transaction("duroxide: abandoning an activity");
    {
        pg::SpiConnection spi;
        begin_unit(spi, Commit::Durable);
        store::Store(spi).abandon_work_item(fetched, kRetryAfterFailureMs, false);
    }
    transaction.commit();
}

} // namespace duroxide::runtime
