#include "runtime/services/metrics.hpp"

#include "runtime/process/shared_state.hpp"

namespace duroxide::runtime::metrics {

namespace {
SharedMetrics& shared_metrics() {
    return shared_state().metrics();
}
} // namespace

const char* counter_name(Counter counter) {
    switch (counter) {
    case Counter::OrchestrationsStarted:
        return "orchestrations_started";
    case Counter::OrchestrationsCompleted:
        return "orchestrations_completed";
    case Counter::OrchestrationsFailedApplication:
        return "orchestrations_failed_application";
    case Counter::OrchestrationsFailedInfrastructure:
        return "orchestrations_failed_infrastructure";
    case Counter::OrchestrationsFailedConfiguration:
        return "orchestrations_failed_configuration";
    case Counter::OrchestrationsFailedPoison:
        return "orchestrations_failed_poison";
    case Counter::OrchestrationsContinuedAsNew:
        return "orchestrations_continued_as_new";
    case Counter::OrchestrationTurns:
        return "orchestration_turns";
    case Counter::ActivitiesSucceeded:
        return "activities_succeeded";
    case Counter::ActivitiesFailedApplication:
        return "activities_failed_application";
    case Counter::ActivitiesCancelled:
        return "activities_cancelled";
    case Counter::ActivitiesPoisoned:
        return "activities_poisoned";
    case Counter::ActivitiesFailedInfrastructure:
        return "activities_failed_infrastructure";
    case Counter::LockRenewals:
        return "lock_renewals";
    case Counter::LockSteals:
        return "lock_steals";
    case Counter::WakeUps:
        return "wake_ups";
    case Counter::SafetyNetPolls:
        return "safety_net_polls";
    case Counter::ResidentCacheHits:
        return "resident_cache_hits";
    case Counter::ResidentCacheMisses:
        return "resident_cache_misses";
    case Counter::ResidentCacheEvictions:
        return "resident_cache_evictions";
    case Counter::StatusWaiterWakeUps:
        return "status_waiter_wake_ups";
    case Counter::InlineTurns:
        return "inline_turns";
    case Counter::FirstTurns:
        return "first_turns";
    case Counter::Count_:
        break;
    }
    return "unknown";
}

const char* histogram_name(Histogram histogram) {
    return histogram == Histogram::TurnDuration ? "turn_duration" : "activity_duration";
}

void add(Counter counter, uint64_t amount) {
    pg_atomic_fetch_add_u64(&shared_metrics().counters[static_cast<int>(counter)],
                            static_cast<int64>(amount));
}

void observe(Histogram histogram, int64_t duration_us) {
    int bucket = 0;
    while (bucket < kBuckets - 1 && duration_us > kBucketBoundsUs[bucket]) {
        ++bucket;
    }
    auto& metrics = shared_metrics();
    const int h = static_cast<int>(histogram);
    pg_atomic_fetch_add_u64(&metrics.buckets[h][bucket], 1);
    pg_atomic_fetch_add_u64(&metrics.sums_us[h], duration_us > 0 ? duration_us : 0);
}

uint64_t read(Counter counter) {
    return pg_atomic_read_u64(&shared_metrics().counters[static_cast<int>(counter)]);
}

uint64_t read_bucket(Histogram histogram, int bucket) {
    return pg_atomic_read_u64(&shared_metrics().buckets[static_cast<int>(histogram)][bucket]);
}

uint64_t read_sum_us(Histogram histogram) {
    return pg_atomic_read_u64(&shared_metrics().sums_us[static_cast<int>(histogram)]);
}

void reset() {
    auto& metrics = shared_metrics();
    for (auto& counter : metrics.counters) {
        pg_atomic_write_u64(&counter, 0);
    }
    for (auto& histogram : metrics.buckets) {
        for (auto& bucket : histogram) {
            pg_atomic_write_u64(&bucket, 0);
        }
    }
    for (auto& sum : metrics.sums_us) {
        pg_atomic_write_u64(&sum, 0);
    }
}

} // namespace duroxide::runtime::metrics
