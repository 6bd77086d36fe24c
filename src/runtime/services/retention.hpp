// duroxide.retention_period: dispatcher 0 deletes terminal root instances (with their trees)
// that completed longer ago than the period, in small batches, when it has no turns to run.
#pragma once

#include <chrono>
#include <optional>

namespace duroxide::runtime {

class RetentionKeeper {
public:
    // Deletes one batch when due; a full batch makes the next one due at once.
    void maintain();
    // Milliseconds until maintain() has something to do; nullopt when retention is off.
    std::optional<long> ms_until_due() const;

private:
    std::chrono::steady_clock::time_point next_run_{};
};

} // namespace duroxide::runtime
