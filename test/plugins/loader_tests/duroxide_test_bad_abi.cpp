// A plugin built for another ABI: the loader must refuse it before calling anything else.
#include <duroxide/plugin.hpp>

#include <cstdint>

extern "C" __attribute__((visibility("default"))) std::uint32_t duroxide_plugin_abi_version() {
    return 999;
}
extern "C" __attribute__((visibility("default"))) void
duroxide_plugin_register(duroxide::PluginRegistrar&) {
    __builtin_trap(); // must never be called
}
