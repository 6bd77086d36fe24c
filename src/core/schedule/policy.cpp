#include "core/schedule/policy.hpp"

#include "core/schedule/cron.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <utility>

namespace duroxide::core::schedule {

namespace {

constexpr std::array<std::pair<std::string_view, Overlap>, 3> kOverlaps{{
    {"skip", Overlap::Skip},
    {"buffer_one", Overlap::BufferOne},
    {"allow_all", Overlap::AllowAll},
}};
constexpr std::array<std::pair<std::string_view, CatchUp>, 4> kCatchUps{{
    {"skip_missed", CatchUp::SkipMissed},
    {"run_once", CatchUp::RunOnce},
    {"backfill_all", CatchUp::BackfillAll},
    {"bounded", CatchUp::Bounded},
}};

// The fires in (after_ms, until_ms] from `first` on (`first` itself when it is later than
// after_ms), keeping only the last `keep` of them.
std::deque<std::int64_t> fires_in(std::int64_t first, std::int64_t after_ms, std::int64_t until_ms,
                                  std::size_t keep, const NextFire& next_fire) {
    std::deque<std::int64_t> found;
    std::optional<std::int64_t> f = first > after_ms ? std::optional(first) : next_fire(after_ms);
    while (f && *f <= until_ms) {
        found.push_back(*f);
        if (found.size() > keep) {
            found.pop_front();
        }
        f = next_fire(*f);
    }
    return found;
}

// The latest `count` fires in [first, now]: looks back over a window that grows until it holds
// enough of them or reaches `first`, so a long downtime is not walked fire by fire.
std::vector<std::int64_t> latest_fires(std::int64_t first, std::int64_t now_ms, std::size_t count,
                                       const NextFire& next_fire) {
    std::int64_t window = 3'600'000;
    for (;;) {
        const bool from_first = now_ms - window < first;
        const std::deque<std::int64_t> found =
            fires_in(first, from_first ? first - 1 : now_ms - window, now_ms, count, next_fire);
        if (found.size() >= count || from_first) {
            return {found.begin(), found.end()};
        }
        window *= 4;
    }
}

// Candidates of the due fires under the catch-up policy; sets step.next_fire_ms/more_due.
std::vector<std::int64_t> candidates(const Policy& policy, std::int64_t first, std::int64_t now_ms,
                                     const NextFire& next_fire, Step& step) {
    std::vector<std::int64_t> due;
    switch (policy.catch_up) {
    case CatchUp::BackfillAll: {
        std::optional<std::int64_t> f = first;
        while (f && *f <= now_ms && due.size() < static_cast<std::size_t>(kMaxStartsPerStep)) {
            due.push_back(*f);
            f = next_fire(*f);
        }
        step.next_fire_ms = f;
        step.more_due = f && *f <= now_ms;
        return due;
    }
    case CatchUp::SkipMissed: {
        const std::deque<std::int64_t> on_time =
            fires_in(first, now_ms - std::max<std::int64_t>(policy.grace_ms, 0) - 1, now_ms,
                     static_cast<std::size_t>(kMaxStartsPerStep), next_fire);
        due.assign(on_time.begin(), on_time.end());
        break;
    }
    case CatchUp::RunOnce:
        due = latest_fires(first, now_ms, 1, next_fire);
        break;
    case CatchUp::Bounded:
        due = latest_fires(
            first, now_ms,
            static_cast<std::size_t>(std::clamp(policy.catch_up_max, 1, kMaxStartsPerStep)),
            next_fire);
        break;
    }
    step.next_fire_ms = next_fire(now_ms);
    return due;
}

} // namespace

std::optional<Overlap> parse_overlap(std::string_view name) {
    for (const auto& [n, value] : kOverlaps) {
        if (n == name) {
            return value;
        }
    }
    return std::nullopt;
}

std::optional<CatchUp> parse_catch_up(std::string_view name) {
    for (const auto& [n, value] : kCatchUps) {
        if (n == name) {
            return value;
        }
    }
    return std::nullopt;
}

std::string_view overlap_name(Overlap overlap) {
    for (const auto& [n, value] : kOverlaps) {
        if (value == overlap) {
            return n;
        }
    }
    return "?";
}

std::string_view catch_up_name(CatchUp catch_up) {
    for (const auto& [n, value] : kCatchUps) {
        if (value == catch_up) {
            return n;
        }
    }
    return "?";
}

bool needs_step(const State& state, std::int64_t now_ms) {
    return state.pending_fire_ms.has_value() ||
           (state.next_fire_ms.has_value() && *state.next_fire_ms <= now_ms);
}

Step plan_step(const Policy& policy, const State& state, std::int64_t now_ms,
               const NextFire& next_fire) {
    Step step{.start = {},
              .next_fire_ms = state.next_fire_ms,
              .pending_fire_ms = std::nullopt,
              .more_due = false};
    std::vector<std::int64_t> queue;
    if (state.pending_fire_ms) {
        queue.push_back(*state.pending_fire_ms);
    }
    if (state.next_fire_ms && *state.next_fire_ms <= now_ms) {
        const std::vector<std::int64_t> due =
            candidates(policy, *state.next_fire_ms, now_ms, next_fire, step);
        // A pending fire that the new candidates repeat (none should) is not queued twice.
        for (const std::int64_t f : due) {
            if (queue.empty() || f > queue.back()) {
                queue.push_back(f);
            }
        }
    }
    if (queue.empty()) {
        return step;
    }
    switch (policy.overlap) {
    case Overlap::AllowAll:
        step.start = std::move(queue);
        break;
    case Overlap::Skip:
        if (!state.previous_running) {
            step.start.push_back(queue.front());
        }
        break;
    case Overlap::BufferOne:
        if (state.previous_running) {
            step.pending_fire_ms = queue.front();
        } else {
            step.start.push_back(queue.front());
            if (queue.size() > 1) {
                step.pending_fire_ms = queue[1];
            }
        }
        break;
    }
    return step;
}

std::string schedule_instance_id(std::string_view name, std::int64_t fire_ms) {
    std::string id(kScheduleIdPrefix);
    id.append(name);
    id.push_back(':');
    id.append(iso8601_utc(civil_from_unix_ms(fire_ms)));
    return id;
}

bool is_schedule_instance_id(std::string_view instance) {
    return instance.starts_with(kScheduleIdPrefix);
}

} // namespace duroxide::core::schedule
