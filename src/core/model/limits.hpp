// duroxide's limits (reference §4.13) and the version string recorded in history events.
#pragma once

#include <cstddef>

namespace duroxide::core {

// The duroxide semantics version this engine replays; written into every event's
// duroxide_version and used to pin executions for capability filtering.
inline constexpr const char* kDuroxideVersion = "0.1.29";

inline constexpr std::size_t kMaxCarryForwardEvents = 100;
inline constexpr std::size_t kMaxCustomStatusBytes = 256 * 1024;
inline constexpr std::size_t kMaxWorkerTags = 5;
inline constexpr std::size_t kMaxTagNameBytes = 256;
inline constexpr std::size_t kMaxKvKeys = 150;
inline constexpr std::size_t kMaxKvValueBytes = 64 * 1024;
// Not a duroxide limit: a key is part of kv_store's and kv_delta's primary-key index entries,
// which PostgreSQL caps at about 2.7 kB; a longer key could never be recorded.
inline constexpr std::size_t kMaxKvKeyBytes = 1024;

} // namespace duroxide::core
