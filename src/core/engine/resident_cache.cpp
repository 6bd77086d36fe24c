#include "core/engine/resident_cache.hpp"

#include <algorithm>

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
    set_limits(capacity, max_bytes_);
}

void ResidentCache::set_limits(std::size_t capacity, std::size_t max_bytes) {
    capacity_ = capacity;
    max_bytes_ = max_bytes;
    trim();
}

std::size_t ResidentCache::footprint_bytes() const {
    std::size_t total = 0;
    for (const auto& [instance, entry] : slots_) {
        total += entry.slot.footprint_bytes;
    }
    return total;
}

void ResidentCache::trim() {
    std::size_t bytes = max_bytes_ > 0 ? footprint_bytes() : 0;
    // The most recently used slot stays even alone over the memory bound: it is the one the
    // caller is about to use (slot()), or the smallest eviction that leaves any cache at all.
    while (!order_.empty() && (slots_.size() > capacity_ ||
                               (max_bytes_ > 0 && bytes > max_bytes_ && slots_.size() > 1))) {
        const std::string victim = order_.back();
        order_.pop_back();
        Entry& entry = slots_.at(victim);
        if (entry.slot.holds()) {
            ++evictions_;
        }
        bytes -= std::min(bytes, entry.slot.footprint_bytes);
        slots_.erase(victim); // a suspended fiber is unwound here
    }
}

} // namespace duroxide::core
