#include "runtime/services/metrics_at_commit.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "access/xact.h"
}

#include <string_view>
#include <vector>

namespace duroxide::runtime::metrics {

namespace {

// A count waiting for the commit, with the subtransaction that asked for it.
struct PendingCount {
    SubTransactionId subtransaction;
    Counter counter;
    uint64_t amount;
};
std::vector<PendingCount> pending;
bool callbacks_registered = false;

void on_transaction_event(XactEvent event, void*) {
    switch (event) {
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_PARALLEL_COMMIT:
        for (const PendingCount& count : pending) {
            add(count.counter, count.amount); // atomic adds: nothing here can fail
        }
        pending.clear();
        break;
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PARALLEL_ABORT:
    case XACT_EVENT_PREPARE: // not counted: its COMMIT PREPARED runs elsewhere
        pending.clear();
        break;
    default:
        break;
    }
}

// Subtransaction ids grow within a transaction, and every subtransaction begun after an open
// one is nested in it: aborting `aborted` drops the counts of it and of its children.
void on_subtransaction_event(SubXactEvent event, SubTransactionId aborted, SubTransactionId,
                             void*) {
    if (event != SUBXACT_EVENT_ABORT_SUB) {
        return;
    }
    std::erase_if(pending,
                  [aborted](const PendingCount& count) { return count.subtransaction >= aborted; });
}

} // namespace

Counter activity_outcome(const core::WorkItem& completion) {
    if (std::holds_alternative<core::work::ActivityCompleted>(completion.kind)) {
        return Counter::ActivitiesSucceeded;
    }
    const auto& failed = std::get<core::work::ActivityFailed>(completion.kind);
    return std::string_view(failed.details.category()) == "poison"
               ? Counter::ActivitiesPoisoned
               : Counter::ActivitiesFailedApplication;
}

void add_at_commit(Counter counter, uint64_t amount) {
    if (!callbacks_registered) {
        pg::call([] {
            RegisterXactCallback(on_transaction_event, nullptr);
            RegisterSubXactCallback(on_subtransaction_event, nullptr);
        });
        callbacks_registered = true;
    }
    const SubTransactionId subtransaction = pg::call([] { return GetCurrentSubTransactionId(); });
    pending.push_back({.subtransaction = subtransaction, .counter = counter, .amount = amount});
}

} // namespace duroxide::runtime::metrics
