#include "core/engine/resident_cache.hpp"

namespace duroxide::core {

ResidentSlot* ResidentCache::slot(const std::string& instance) {
    if (capacity_ == 0) {
        return nullptr;
    }
    auto found = slots_.find(instance);
    if (found != slots_.end()) {
        order_.splice(order_.begin(), order_, found->second.position);
        return &found->second.slot;
    }
    order_.push_front(instance);
    auto& entry = slots_[instance];
    entry.position = order_.begin();
    trim();
    // trim() never evicts the entry just made most recently used.
    return &slots_.at(instance).slot;
}

const ResidentSlot* ResidentCache::find(const std::string& instance) const {
    auto found = slots_.find(instance);
    return found != slots_.end() && found->second.slot.holds() ? &found->second.slot : nullptr;
}

void ResidentCache::drop(const std::string& instance) {
    auto found = slots_.find(instance);
    if (found != slots_.end()) {
        order_.erase(found->second.position);
        slots_.erase(found);
    }
}

void ResidentCache::clear() {
    slots_.clear();
    order_.clear();
}

void ResidentCache::set_capacity(std::size_t capacity) {
    capacity_ = capacity;
    trim();
}

void ResidentCache::trim() {
    while (slots_.size() > capacity_ && !order_.empty()) {
        const std::string victim = order_.back();
        order_.pop_back();
        if (slots_.at(victim).slot.holds()) {
            ++evictions_;
        }
        slots_.erase(victim); // a suspended fiber is unwound here
    }
}

} // namespace duroxide::core
