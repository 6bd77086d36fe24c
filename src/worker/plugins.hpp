// Loading plugin .so files into duroxide-worker: the same files and ABI check as the server's
// loader (runtime/plugins/plugin_loader), without PostgreSQL. Plugins only need the header-only
// include/duroxide API; their orchestrations are registered and ignored (the server runs those).
#pragma once

#include "duroxide/registry.hpp"

#include <string>
#include <vector>

namespace duroxide::worker {

// Loads every plugin (kept loaded for the life of the process) into `activities`; throws
// std::runtime_error naming the file when one cannot be loaded or registers badly.
void load_plugins(const std::vector<std::string>& paths, ActivityRegistry& activities);

} // namespace duroxide::worker
