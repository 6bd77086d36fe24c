// Server-wide counters and duration histograms in shared memory, shown by the duroxide.metrics
// view. Lock-free (atomic adds), so recording costs a few nanoseconds on the hot path.
#pragma once

#include <cstdint>

namespace duroxide::runtime::metrics {

enum class Counter : int {
    OrchestrationsStarted,
    OrchestrationsCompleted,
    OrchestrationsFailedApplication,
    OrchestrationsFailedInfrastructure,
    OrchestrationsFailedConfiguration,
    OrchestrationsFailedPoison,
    OrchestrationsContinuedAsNew,
    OrchestrationTurns,
    ActivitiesSucceeded,
    ActivitiesFailedApplication,
    ActivitiesCancelled,
    ActivitiesPoisoned,
    ActivitiesFailedInfrastructure,
    LockRenewals,
    LockSteals,
    WakeUps,
    SafetyNetPolls,
    ResidentCacheHits,
    ResidentCacheMisses,
    ResidentCacheEvictions,
    StatusWaiterWakeUps, // a client's wait woken by a commit that changed its instance
    InlineTurns,         // turns run inline by activity workers (also in OrchestrationTurns)
    FirstTurns,          // first turns run in the creating transaction (also in OrchestrationTurns)
    Count_               // number of counters
};

enum class Histogram : int { TurnDuration, ActivityDuration, Count_ };

// Upper bounds (microseconds) of the histogram buckets; a last bucket takes the rest.
inline constexpr int64_t kBucketBoundsUs[] = {100,   500,    1000,   5000,    10000,
                                              50000, 100000, 500000, 1000000, 10000000};
inline constexpr int kBuckets = sizeof(kBucketBoundsUs) / sizeof(kBucketBoundsUs[0]) + 1;

const char* counter_name(Counter counter);
const char* histogram_name(Histogram histogram);

void add(Counter counter, uint64_t amount = 1);
void observe(Histogram histogram, int64_t duration_us);

// Reads counter / bucket values (a consistent-enough snapshot: each value is read atomically).
uint64_t read(Counter counter);
uint64_t read_bucket(Histogram histogram, int bucket);
uint64_t read_sum_us(Histogram histogram);
void reset();

} // namespace duroxide::runtime::metrics
