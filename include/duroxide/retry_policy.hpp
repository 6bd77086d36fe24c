// Retry policies for activities (schedule_activity_with_retry), as in duroxide: attempts,
// backoff between them, and an optional per-attempt timeout.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <variant>

namespace duroxide {

using Millis = std::chrono::milliseconds;

struct NoBackoff {};
struct FixedBackoff {
    Millis delay;
};
struct LinearBackoff { // base * attempt, capped at max
    Millis base, max;
};
struct ExponentialBackoff { // base * multiplier^(attempt-1), capped at max
    Millis base;
    double multiplier;
    Millis max;
};
using BackoffStrategy = std::variant<NoBackoff, FixedBackoff, LinearBackoff, ExponentialBackoff>;

class RetryPolicy {
public:
    explicit RetryPolicy(std::uint32_t max_attempts = 3) : max_attempts_(max_attempts) {
        if (max_attempts == 0) {
            throw std::invalid_argument("RetryPolicy needs at least one attempt");
        }
    }
    RetryPolicy& with_backoff(BackoffStrategy backoff) {
        backoff_ = backoff;
        return *this;
    }
    // Each attempt races a timer of this length; a timeout ends the retries at once.
    RetryPolicy& with_timeout(Millis timeout) {
        timeout_ = timeout;
        return *this;
    }
    RetryPolicy& with_total_timeout(Millis timeout) { return with_timeout(timeout); }

    std::uint32_t max_attempts() const { return max_attempts_; }
    const BackoffStrategy& backoff() const { return backoff_; }
    const std::optional<Millis>& timeout() const { return timeout_; }

    // The wait after failed attempt `attempt` (1-based) before the next one.
    Millis delay_for_attempt(std::uint32_t attempt) const {
        const std::uint32_t n = std::max<std::uint32_t>(attempt, 1);
        struct Visitor {
            std::uint32_t n;
            Millis operator()(const NoBackoff&) const { return Millis(0); }
            Millis operator()(const FixedBackoff& b) const { return b.delay; }
            Millis operator()(const LinearBackoff& b) const {
                return std::min(Millis(b.base.count() * static_cast<std::int64_t>(n)), b.max);
            }
            Millis operator()(const ExponentialBackoff& b) const {
                const double ms =
                    static_cast<double>(b.base.count()) * std::pow(b.multiplier, n - 1.0);
                if (!(ms < static_cast<double>(b.max.count()))) { // also catches overflow / NaN
                    return b.max;
                }
                return Millis(static_cast<std::int64_t>(ms));
            }
        };
        return std::visit(Visitor{n}, backoff_);
    }

private:
    std::uint32_t max_attempts_;
    BackoffStrategy backoff_ = ExponentialBackoff{Millis(100), 2.0, Millis(30000)};
    std::optional<Millis> timeout_;
};

} // namespace duroxide
