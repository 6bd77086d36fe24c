#include "runtime/plugins/unregistered.hpp"

#include "core/validation/message_quote.hpp"
#include "pg/guard.hpp"

namespace duroxide::runtime {

void log_unregistered_backoff(const std::string& reason, const std::string& instance,
                              int64_t retry_in_ms, uint32_t attempt, uint32_t max_attempts) {
    const std::string message = "duroxide: " + reason + ": instance " + core::quoted(instance) +
                                " retries in " + std::to_string(retry_in_ms) + " ms (attempt " +
                                std::to_string(attempt) + " of " + std::to_string(max_attempts) +
                                ", then it fails)";
    pg::call([&message] {
        ereport(LOG, (errmsg_internal("%s", message.c_str()),
                      errhint("Register the plugin or SQL activity that provides it.")));
    });
}

} // namespace duroxide::runtime
