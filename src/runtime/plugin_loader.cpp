#include "runtime/plugin_loader.hpp"

#include "duroxide/version.hpp"
#include "pg/guard.hpp"
#include "runtime/gucs.hpp"
#include "runtime/plugin_path.hpp"

#include <dlfcn.h>

namespace duroxide::runtime {

LoadedPlugin load_plugin(std::string_view name, PluginRegistrar& registrar) {
    LoadedPlugin plugin;
    plugin.name = std::string(name);
    PluginFile file = open_plugin_file(
        name, plugin_directories(settings.plugin_directories ? settings.plugin_directories : ""));
    plugin.path = file.path();
    // Not PostgreSQL's loader: a plugin is not a PostgreSQL module (no PG_MODULE_MAGIC, no
    // PostgreSQL headers). RTLD_LOCAL keeps one plugin's symbols from resolving another's; the
    // library stays loaded for the life of the process, as PostgreSQL's own modules do. Loaded
    // through the descriptor that was checked, never by its name again.
    void* handle = dlopen(file.descriptor_path().c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = dlerror();
        throw pg::SqlError(ERRCODE_UNDEFINED_FILE, "could not load plugin \"" + plugin.name + "\"",
                           why != nullptr ? std::string(why) : std::string());
    }
    file.keep_open();
    void* abi_symbol = dlsym(handle, kPluginAbiSymbol);
    void* register_symbol = dlsym(handle, kPluginRegisterSymbol);
    if (abi_symbol == nullptr || register_symbol == nullptr) {
        throw pg::SqlError(ERRCODE_FEATURE_NOT_SUPPORTED,
                           "\"" + plugin.path + "\" is not a duroxide plugin",
                           "It does not export duroxide_plugin_abi_version and "
                           "duroxide_plugin_register.",
                           "Define the plugin's entry points with DUROXIDE_PLUGIN(...) from "
                           "<duroxide/plugin.hpp>.");
    }
    plugin.abi_version = reinterpret_cast<PluginAbiFn>(abi_symbol)();
    if (plugin.abi_version != kAbiVersion) {
        throw pg::SqlError(ERRCODE_FEATURE_NOT_SUPPORTED,
                           "plugin \"" + plugin.name + "\" was built for duroxide ABI " +
                               std::to_string(plugin.abi_version) + ", this server runs ABI " +
                               std::to_string(kAbiVersion),
                           {}, "Rebuild the plugin against the installed duroxide headers.");
    }
    reinterpret_cast<PluginRegisterFn>(register_symbol)(registrar);
    return plugin;
}

} // namespace duroxide::runtime
