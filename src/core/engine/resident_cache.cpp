#include "core/engine/resident_cache.hpp"

#include <algorithm>

namespace duroxide::core {

ResidentSlot* ResidentCache::slot(const std::string& instance) {
    if (capacity_ == 0) {
        return nullptr;
    }
    auto found = slots_.find(instance);
    if (found == slots_.end()) {
        order_.push_front(instance);
        auto& entry = slots_[instance];
        entry.position = order_.begin();
        trim();
        // trim() never evicts the entry just made most recently used.
        found = slots_.find(instance);
    } else {
        order_.splice(order_.begin(), order_, found->second.position);
    }
    Entry& entry = found->second;
    if (!entry.handed_out) {
        entry.handed_out = true;
        handed_out_.push_back(instance);
    }
    return &entry.slot;
}

const ResidentSlot* ResidentCache::find(const std::string& instance) const {
    auto found = slots_.find(instance);
    return found != slots_.end() && found->second.slot.holds() ? &found->second.slot : nullptr;
}

void ResidentCache::forget(Entry& entry) {
    counted_bytes_ -= std::min(counted_bytes_, entry.counted);
    entry.counted = 0;
}

void ResidentCache::drop(const std::string& instance) {
    auto found = slots_.find(instance);
    if (found != slots_.end()) {
        forget(found->second);
        if (found->second.handed_out) {
            std::erase(handed_out_, instance); // a few names: the slots of one batch
        }
        order_.erase(found->second.position);
        slots_.erase(found);
    }
}

void ResidentCache::clear() {
    slots_.clear();
    order_.clear();
    handed_out_.clear();
    counted_bytes_ = 0;
}

void ResidentCache::set_capacity(std::size_t capacity) {
    set_limits(capacity, max_bytes_);
}

void ResidentCache::set_limits(std::size_t capacity, std::size_t max_bytes) {
    capacity_ = capacity;
    max_bytes_ = max_bytes;
    trim();
}

void ResidentCache::settle() {
    for (const std::string& instance : handed_out_) {
        auto found = slots_.find(instance);
        if (found == slots_.end()) {
            continue;
        }
        Entry& entry = found->second;
        counted_bytes_ = counted_bytes_ - entry.counted + entry.slot.footprint_bytes;
        entry.counted = entry.slot.footprint_bytes;
        entry.handed_out = false;
    }
    handed_out_.clear();
}

std::size_t ResidentCache::footprint_bytes() const {
    std::size_t total = counted_bytes_;
    for (const std::string& instance : handed_out_) {
        auto found = slots_.find(instance);
        if (found != slots_.end() && found->second.handed_out) {
            total = total - found->second.counted + found->second.slot.footprint_bytes;
        }
    }
    return total;
}

std::size_t ResidentCache::recounted_footprint_bytes() const {
    std::size_t total = 0;
    for (const auto& [instance, entry] : slots_) {
        total += entry.slot.footprint_bytes;
    }
    return total;
}

void ResidentCache::trim() {
    settle();
    // The most recently used slot stays even alone over the memory bound: it is the one the
    // caller is about to use (slot()), or the smallest eviction that leaves any cache at all.
    while (!order_.empty() &&
           (slots_.size() > capacity_ ||
            (max_bytes_ > 0 && counted_bytes_ > max_bytes_ && slots_.size() > 1))) {
        const std::string victim = order_.back();
        order_.pop_back();
        Entry& entry = slots_.at(victim);
        if (entry.slot.holds()) {
            ++evictions_;
        }
        forget(entry);
        slots_.erase(victim); // a suspended fiber is unwound here
    }
}

} // namespace duroxide::core
