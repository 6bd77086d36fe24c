#include "worker/plugins.hpp"

#include "duroxide/plugin.hpp"

#include <dlfcn.h>

#include <stdexcept>

namespace duroxide::worker {

namespace {

class Registrar final : public PluginRegistrar {
public:
    OrchestrationRegistry& orchestrations() override { return orchestrations_; }
    ActivityRegistry& activities() override { return activities_; }

private:
    OrchestrationRegistry orchestrations_;
    ActivityRegistry activities_;
};

} // namespace

void load_plugins(const std::vector<std::string>& paths, ActivityRegistry& activities) {
    for (const std::string& path : paths) {
        // Never closed: activity code and its static objects live as long as the process.
        void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            throw std::runtime_error("cannot load plugin \"" + path + "\": " + dlerror());
        }
        auto abi = reinterpret_cast<PluginAbiFn>(dlsym(handle, kPluginAbiSymbol));
        auto registration =
            reinterpret_cast<PluginRegisterFn>(dlsym(handle, kPluginRegisterSymbol));
        if (abi == nullptr || registration == nullptr) {
            throw std::runtime_error("\"" + path + "\" is not a duroxide plugin (no " +
                                     kPluginAbiSymbol + " or " + kPluginRegisterSymbol + ")");
        }
        if (abi() != kAbiVersion) {
            throw std::runtime_error("plugin \"" + path + "\" was built for duroxide ABI " +
                                     std::to_string(abi()) + ", this worker has ABI " +
                                     std::to_string(kAbiVersion) + ": rebuild it");
        }
        Registrar registrar;
        try {
            registration(registrar);
            activities.merge(registrar.activities());
        } catch (const std::exception& e) {
            throw std::runtime_error("plugin \"" + path + "\": " + e.what());
        }
    }
}

} // namespace duroxide::worker
