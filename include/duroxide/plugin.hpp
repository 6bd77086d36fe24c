// Writing a duroxide plugin: a shared library that registers orchestrations and activities.
//
//   #include <duroxide/duroxide.hpp>
//   #include <duroxide/plugin.hpp>
//
//   static void register_all(duroxide::PluginRegistrar& r) {
//       r.orchestrations().register_orchestration("HelloWorld", hello_world);
//       r.activities().register_activity("Hello", hello);
//   }
//   DUROXIDE_PLUGIN(register_all)
//
// Build it with PGXS against the installed headers (docs/plugin-guide.md), install it into
// $libdir, then `SELECT duroxide.register_plugin('my_plugin');`.
#pragma once

#include "duroxide/version.hpp"

#include <cstdint>

namespace duroxide {

class OrchestrationRegistry;
class ActivityRegistry;

// Handed to a plugin's registration function; the registries collect what it provides.
class PluginRegistrar {
public:
    virtual ~PluginRegistrar() = default;
    virtual OrchestrationRegistry& orchestrations() = 0;
    virtual ActivityRegistry& activities() = 0;
};

// Symbols every plugin exports (DUROXIDE_PLUGIN defines both).
inline constexpr const char* kPluginAbiSymbol = "duroxide_plugin_abi_version";
inline constexpr const char* kPluginRegisterSymbol = "duroxide_plugin_register";
using PluginAbiFn = std::uint32_t (*)();
using PluginRegisterFn = void (*)(PluginRegistrar&);

} // namespace duroxide

// Exports the ABI version the plugin was compiled against and its registration function.
#define DUROXIDE_PLUGIN(register_function)                                                         \
    extern "C" __attribute__((visibility("default"))) std::uint32_t                                \
    duroxide_plugin_abi_version() {                                                                \
        return ::duroxide::kAbiVersion;                                                            \
    }                                                                                              \
    extern "C" __attribute__((visibility("default"))) void duroxide_plugin_register(               \
        ::duroxide::PluginRegistrar& registrar) {                                                  \
        register_function(registrar);                                                              \
    }
