// What the remote-worker SQL functions (sql_api/remote_workers.cpp) read besides the store's
// worker-queue operations: a lease named by its id and token (a remote worker holds only
// those), and whether an activity name is registered on the server (the allow-list check).
#pragma once

#include "pg/spi.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace duroxide::store {

// The leased activity with this id and lock token (expired or not); nullopt when the row is
// gone (completed, cancelled) or its token changed (taken over).
std::optional<FetchedActivity> leased_activity(pg::SpiConnection& spi, int64_t id,
                                               std::string_view token);

// Whether a registered plugin or SQL activity provides activity `name` on the server.
bool activity_registered(pg::SpiConnection& spi, const std::string& name);

} // namespace duroxide::store
