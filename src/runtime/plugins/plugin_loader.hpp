// Loading plugin libraries into a process and letting them register their handlers.
#pragma once

#include "duroxide/plugin.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace duroxide::runtime {

struct LoadedPlugin {
    std::string name;
    std::string path;
    std::uint32_t abi_version = 0;
};

// Resolves plugin `name` (runtime/plugins/plugin_path.hpp, duroxide.plugin_directories), loads it
// (it stays mapped for the life of the process), checks that it was built for this ABI, and calls
// its registration function with `registrar`. A file this process loaded before (same device
// and inode) is not loaded again; a new file under the same name is (a new build renamed over
// the old one), next to the old copy. A file overwritten in place keeps the code loaded first
// (logged as a warning).
// Throws pg::SqlError: undefined_file (not found), feature_not_supported (wrong ABI or not a
// duroxide plugin), or whatever the loader or the plugin's registration raised.
LoadedPlugin load_plugin(std::string_view name, PluginRegistrar& registrar);

} // namespace duroxide::runtime
