#include "runtime/services/retention.hpp"

#include "pg/guard.hpp"
#include "pg/transaction.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/process/unit_of_work.hpp"

#include <algorithm>
#include <string>
#include <vector>

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
    long deleted = 0;
    {
        pg::WorkerTransaction transaction("duroxide: retention");
        {
            pg::SpiConnection spi;
            begin_unit(spi, Commit::Durable);
            const pg::SpiRows rows =
                spi.execute("SELECT instances FROM duroxide.delete_instances("
                            "  completed_before => pg_catalog.clock_timestamp() - $1::bigint * "
                            "interval '1 second', "
                            "  max_instances => $2::int)",
                            std::vector<pg::SqlText>{std::to_string(settings.retention_period_s),
                                                     std::to_string(kBatch)});
            deleted = std::stol(rows.rows.at(0).at(0).value_or("0"));
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
    next_run_ = deleted == kBatch ? now : now + pause;
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
