// The derivation of the completion notifications' channel names (docs/operations.md,
// "Notifications"): 'duroxide_' and 40 hex digits of sha256(secret || key), the secret a
// random row of duroxide.notification_secret only the extension owner reads.
#pragma once

#include "pg/spi.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace duroxide::store {

// The channel of `key` ('role:<oid>' or 'all') under the current secret; nullopt when there is
// no secret row. The caller must be allowed to read the secret (the extension owner).
std::optional<std::string> derive_notification_channel(pg::SpiConnection& spi,
                                                       std::string_view key);

} // namespace duroxide::store
