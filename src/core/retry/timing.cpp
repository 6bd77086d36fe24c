#include "core/retry/timing.hpp"

#include <algorithm>

namespace duroxide::core {

Millis unregistered_backoff(std::uint32_t attempt, Millis base, Millis max) {
    const std::uint32_t exponent = std::min<std::uint32_t>(attempt > 0 ? attempt - 1 : 0, 6);
    return std::min(Millis(base.count() << exponent), max);
}

Millis lock_renewal_interval(Millis lock_timeout, Millis buffer) {
    const Millis interval = lock_timeout >= Millis(15000) ? lock_timeout - buffer
                                                          : Millis((lock_timeout.count() + 1) / 2);
    return std::max(interval, Millis(1000));
}

} // namespace duroxide::core
