// What one pass of a worker loop (orchestration or activity) did.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace duroxide::runtime {

struct WorkOutcome {
    std::size_t processed = 0;              // items handled: when any, look for more at once
    std::optional<int64_t> next_work_in_ms; // when idle: when queued work becomes visible
};

} // namespace duroxide::runtime
