#include "store/notification_channels.hpp"

#include <vector>

namespace duroxide::store {

std::optional<std::string> derive_notification_channel(pg::SpiConnection& spi,
                                                       std::string_view key) {
    auto rows =
        spi.execute("SELECT 'duroxide_' OPERATOR(pg_catalog.||) pg_catalog.left(pg_catalog.encode("
                    "           pg_catalog.sha256(s.secret OPERATOR(pg_catalog.||) "
                    "                             pg_catalog.convert_to($1, 'UTF8')), 'hex'), 40) "
                    "  FROM duroxide.notification_secret s",
                    std::vector<pg::SqlText>{std::string(key)}, true);
    if (rows.rows.empty() || !rows.rows[0][0]) {
        return std::nullopt;
    }
    return std::move(*rows.rows[0][0]);
}

} // namespace duroxide::store
