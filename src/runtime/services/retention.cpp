#include "runtime/services/retention.hpp"

#include "pg/guard.hpp"
#include "pg/transaction.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/process/unit_of_work.hpp"
#include "store/retention.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

namespace duroxide::runtime {

namespace {
constexpr int kBatch = 100;
// Off the hot path: a period of days needs no faster look than this.
constexpr std::chrono::milliseconds kLongestPause{60'000};
} // namespace

void RetentionKeeper::maintain() {
    const auto now = std::chrono::steady_clock::now();
    if (settings.retention_period_s <= 0 || now < next_run_) {
        return;
    }
    uint64_t deleted = 0;
    {
        pg::WorkerTransaction transaction("duroxide: retention");
        {
            pg::SpiConnection spi;
            begin_unit(spi, Commit::Durable);
            deleted = store::delete_finished_instances(spi, settings.retention_period_s, kBatch);
        }
        transaction.commit();
    }
    if (deleted > 0) {
        const std::string message =
            "duroxide: retention deleted " + std::to_string(deleted) + " finished instances";
        pg::call([&message] { ereport(LOG, (errmsg_internal("%s", message.c_str()))); });
    }
    const auto pause = std::min<std::chrono::milliseconds>(
        kLongestPause, std::chrono::milliseconds(settings.retention_period_s * 1000L / 2 + 1));
    next_run_ = deleted >= static_cast<uint64_t>(kBatch) ? now : now + pause;
}

std::optional<long> RetentionKeeper::ms_until_due() const {
    if (settings.retention_period_s <= 0) {
        return std::nullopt;
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
                          next_run_ - std::chrono::steady_clock::now())
                          .count();
    return std::max<long>(wait, 0);
}

} // namespace duroxide::runtime
