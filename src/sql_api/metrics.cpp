// duroxide.get_metrics() / duroxide.reset_metrics(): the shared-memory counters and histograms.
#include "pg/guard.hpp"
#include "runtime/services/metrics.hpp"

#include <string>
#include <vector>

namespace {

namespace metrics = duroxide::runtime::metrics;

struct MetricRow {
    std::string metric;
    std::string bucket; // histogram bucket upper bound, "" for plain counters
    int64 value;
};

std::vector<MetricRow> collect() {
    std::vector<MetricRow> rows;
    for (int c = 0; c < static_cast<int>(metrics::Counter::Count_); ++c) {
        auto counter = static_cast<metrics::Counter>(c);
        rows.push_back(
            {metrics::counter_name(counter), "", static_cast<int64>(metrics::read(counter))});
    }
    for (int h = 0; h < static_cast<int>(metrics::Histogram::Count_); ++h) {
        auto histogram = static_cast<metrics::Histogram>(h);
        const std::string name = std::string(metrics::histogram_name(histogram)) + "_us";
        int64 count = 0;
        for (int b = 0; b < metrics::kBuckets; ++b) {
            const int64 value = static_cast<int64>(metrics::read_bucket(histogram, b));
            count += value;
            rows.push_back({name + "_bucket",
                            b < metrics::kBuckets - 1
                                ? "le " + std::to_string(metrics::kBucketBoundsUs[b])
                                : std::string("le +Inf"),
                            value});
        }
        rows.push_back({name + "_count", "", count});
        rows.push_back({name + "_sum", "", static_cast<int64>(metrics::read_sum_us(histogram))});
    }
    return rows;
}

} // namespace

DUROXIDE_SQL_FUNCTION(duroxide_get_metrics) {
    const std::vector<MetricRow> rows = collect();
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    duroxide::pg::call([fcinfo] { InitMaterializedSRF(fcinfo, 0); });
    for (const auto& row : rows) {
        const char* metric = row.metric.c_str();
        const char* bucket = row.bucket.empty() ? nullptr : row.bucket.c_str();
        const int64 value = row.value;
        duroxide::pg::call([rsinfo, metric, bucket, value] {
            Datum values[3] = {CStringGetTextDatum(metric),
                               bucket ? CStringGetTextDatum(bucket) : Datum(0),
                               Int64GetDatum(value)};
            bool nulls[3] = {false, bucket == nullptr, false};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        });
    }
    return Datum(0);
}

DUROXIDE_SQL_FUNCTION(duroxide_reset_metrics) {
    metrics::reset();
    PG_RETURN_VOID();
}
