// Registries of orchestration and activity handlers. A plugin fills them at registration; the
// runtime merges every plugin's registries and resolves handlers by name (and version).
#pragma once

#include "duroxide/semver.hpp"

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace duroxide {

class OrchestrationContext;
class ActivityContext;

// Orchestration code: deterministic, returns the output or throws to fail.
using OrchestrationFn = std::function<std::string(OrchestrationContext&, const std::string&)>;
// Activity code: the side effect; returns the result or throws to fail (an application error).
using ActivityFn = std::function<std::string(ActivityContext&, const std::string&)>;

// Names with this prefix belong to duroxide's built-in system activities.
inline constexpr std::string_view kSystemActivityPrefix = "__duroxide_syscall:";

class RegistryError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// Which version of an orchestration new instances (and continue-as-new) get.
class VersionPolicy {
public:
    static VersionPolicy latest() { return VersionPolicy(std::nullopt); }
    static VersionPolicy exact(Semver version) { return VersionPolicy(version); }
    bool is_latest() const { return !exact_; }
    const std::optional<Semver>& exact_version() const { return exact_; }

private:
    explicit VersionPolicy(std::optional<Semver> exact) : exact_(exact) {}
    std::optional<Semver> exact_;
};

struct ResolvedOrchestration {
    Semver version;
    const OrchestrationFn* handler;
};

namespace detail {
inline void check_user_name(std::string_view name, const char* what) {
    if (name.empty()) {
        throw RegistryError(std::string(what) + " name must not be empty");
    }
    if (name.substr(0, kSystemActivityPrefix.size()) == kSystemActivityPrefix) {
        throw RegistryError(std::string(what) + " name \"" + std::string(name) +
                            "\" uses the reserved prefix " + std::string(kSystemActivityPrefix));
    }
}
} // namespace detail

class OrchestrationRegistry {
public:
    // Registers version 1.0.0 of `name`.
    void register_orchestration(std::string name, OrchestrationFn fn) {
        register_versioned(std::move(name), "1.0.0", std::move(fn));
    }

    // Versions of a name must be registered in strictly increasing order.
    void register_versioned(std::string name, std::string_view version, OrchestrationFn fn) {
        detail::check_user_name(name, "orchestration");
        const Semver v = Semver::parse(version);
        auto& versions = handlers_[name];
        if (!versions.empty() && !(versions.rbegin()->first < v)) {
            throw RegistryError("orchestration \"" + name + "\" version " + v.to_string() +
                                " must be greater than the latest registered, " +
                                versions.rbegin()->first.to_string());
        }
        versions.emplace(v, std::move(fn));
    }

    void set_policy(const std::string& name, VersionPolicy policy) {
        if (!has(name)) {
            throw RegistryError("no orchestration named \"" + name + "\"");
        }
        policies_.insert_or_assign(name, policy);
    }

    // The handler new instances of `name` get under its policy (Latest by default).
    std::optional<ResolvedOrchestration> resolve(const std::string& name) const {
        auto it = handlers_.find(name);
        if (it == handlers_.end() || it->second.empty()) {
            return std::nullopt;
        }
        auto policy = policies_.find(name);
        if (policy != policies_.end() && !policy->second.is_latest()) {
            return resolve_exact(name, *policy->second.exact_version());
        }
        const auto& latest = *it->second.rbegin();
        return ResolvedOrchestration{latest.first, &latest.second};
    }

    std::optional<ResolvedOrchestration> resolve_exact(const std::string& name,
                                                       const Semver& version) const {
        auto it = handlers_.find(name);
        if (it == handlers_.end()) {
            return std::nullopt;
        }
        auto v = it->second.find(version);
        if (v == it->second.end()) {
            return std::nullopt;
        }
        return ResolvedOrchestration{v->first, &v->second};
    }

    bool has(const std::string& name) const { return handlers_.count(name) != 0; }

    std::vector<std::string> names() const {
        std::vector<std::string> result;
        for (const auto& [name, versions] : handlers_) {
            result.push_back(name);
        }
        return result;
    }

    std::vector<Semver> versions(const std::string& name) const {
        std::vector<Semver> result;
        if (auto it = handlers_.find(name); it != handlers_.end()) {
            for (const auto& [version, fn] : it->second) {
                result.push_back(version);
            }
        }
        return result;
    }

    // Adds everything `other` registered; a name both define is a conflict (two plugins must
    // not provide the same orchestration).
    void merge(const OrchestrationRegistry& other) {
        for (const auto& [name, versions] : other.handlers_) {
            if (has(name)) {
                throw RegistryError("orchestration \"" + name + "\" is registered twice");
            }
        }
        for (const auto& [name, versions] : other.handlers_) {
            handlers_[name] = versions;
        }
        for (const auto& [name, policy] : other.policies_) {
            policies_.insert_or_assign(name, policy);
        }
    }

private:
    std::map<std::string, std::map<Semver, OrchestrationFn>> handlers_;
    std::map<std::string, VersionPolicy> policies_;
};

class ActivityRegistry {
public:
    void register_activity(std::string name, ActivityFn fn) {
        detail::check_user_name(name, "activity");
        add(std::move(name), std::move(fn));
    }

    // For the runtime's built-in activities, which must carry the reserved prefix.
    void register_system_activity(std::string name, ActivityFn fn) {
        if (name.substr(0, kSystemActivityPrefix.size()) != kSystemActivityPrefix) {
            throw RegistryError("system activity \"" + name + "\" must start with " +
                                std::string(kSystemActivityPrefix));
        }
        add(std::move(name), std::move(fn));
    }

    const ActivityFn* find(const std::string& name) const {
        auto it = handlers_.find(name);
        return it == handlers_.end() ? nullptr : &it->second;
    }

    std::vector<std::string> names() const {
        std::vector<std::string> result;
        for (const auto& [name, fn] : handlers_) {
            result.push_back(name);
        }
        return result;
    }

    void merge(const ActivityRegistry& other) {
        for (const auto& [name, fn] : other.handlers_) {
            if (handlers_.count(name)) {
                throw RegistryError("activity \"" + name + "\" is registered twice");
            }
        }
        for (const auto& [name, fn] : other.handlers_) {
            handlers_.emplace(name, fn);
        }
    }

private:
    void add(std::string name, ActivityFn fn) {
        if (!handlers_.emplace(name, std::move(fn)).second) {
            throw RegistryError("activity \"" + name + "\" is registered twice");
        }
    }
    std::map<std::string, ActivityFn> handlers_;
};

} // namespace duroxide
