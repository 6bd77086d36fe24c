#include "runtime/plugins/plugin_loader.hpp"

#include "duroxide/version.hpp"
#include "pg/guard.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/plugins/plugin_path.hpp"

#include <cstdint>
#include <map>
#include <utility>

#include <dlfcn.h>
#include <sys/stat.h>

namespace duroxide::runtime {

namespace {

using LoadedFile = std::pair<dev_t, ino_t>;

struct LoadedHandle {
    void* handle = nullptr; // never closed
    off_t size = 0;
    std::int64_t mtime_ns = 0;
};

// Every library file this process has loaded, by identity.
std::map<LoadedFile, LoadedHandle>& loaded_files() {
    static std::map<LoadedFile, LoadedHandle> files;
    return files;
}

std::int64_t mtime_ns(const struct stat& info) {
    return static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
}

} // namespace

LoadedPlugin load_plugin(std::string_view name, PluginRegistrar& registrar) {
    LoadedPlugin plugin;
    plugin.name = std::string(name);
    PluginFile file = open_plugin_file(
        name, plugin_directories(settings.plugin_directories ? settings.plugin_directories : ""));
    plugin.path = file.path();
    struct stat info {};
    if (fstat(file.fd(), &info) != 0) {
        throw pg::SqlError(ERRCODE_UNDEFINED_FILE,
                           "could not examine plugin \"" + plugin.name + "\"", plugin.path);
    }
    // A file this process loaded before (same device and inode) is not loaded again: its handle
    // is reused and the new descriptor closed (the loader would return the same handle anyway,
    // and a descriptor kept per catalog change would leak). A new build is a new file (a new
    // name, or a new file renamed over the old one) and gets a copy of its own; the old copies
    // stay mapped (dlclose of C++ code is unsafe) while code loaded from them may still run.
    const LoadedFile key{info.st_dev, info.st_ino};
    void* handle = nullptr;
    if (auto known = loaded_files().find(key); known != loaded_files().end()) {
        handle = known->second.handle;
        if (known->second.size != info.st_size || known->second.mtime_ns != mtime_ns(info)) {
            const std::string message =
                "duroxide: plugin library " + plugin.path +
                " was overwritten in place since it was loaded; this process keeps running the "
                "build it loaded. Install a new build as a new file (see docs/operations.md, "
                "\"Deploying a new plugin build\").";
            pg::call([&message] { ereport(WARNING, (errmsg_internal("%s", message.c_str()))); });
        }
    } else {
        // Not PostgreSQL's loader: a plugin is not a PostgreSQL module (no PG_MODULE_MAGIC, no
        // PostgreSQL headers). RTLD_LOCAL keeps one plugin's symbols from resolving another's;
        // the library stays loaded for the life of the process, as PostgreSQL's own modules
        // do. Loaded through the descriptor that was checked, never by its name again.
        handle = dlopen(file.descriptor_path().c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            const char* why = dlerror();
            throw pg::SqlError(ERRCODE_UNDEFINED_FILE,
                               "could not load plugin \"" + plugin.name + "\"",
                               why != nullptr ? std::string(why) : std::string());
        }
        file.keep_open();
        loaded_files().emplace(
            key, LoadedHandle{.handle = handle, .size = info.st_size, .mtime_ns = mtime_ns(info)});
    }
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
