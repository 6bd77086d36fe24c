// The dispatcher's resident cache: executions kept between turns (core/replay ResidentSlot),
// one per instance, least recently used evicted first, bounded by a count and by the slots'
// estimated memory. Pure C++; one per dispatcher process.
#pragma once

#include "core/replay/turn.hpp"

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

namespace duroxide::core {

class ResidentCache {
public:
    // `max_bytes` bounds the summed footprint_bytes of the slots; 0: no memory bound.
    explicit ResidentCache(std::size_t capacity, std::size_t max_bytes = 0)
        : capacity_(capacity), max_bytes_(max_bytes) {}

    // The slot of `instance` (created empty when absent), marked most recently used. Evicts the
    // least recently used slot when over capacity; nullptr when the cache is disabled (0).
    ResidentSlot* slot(const std::string& instance);
    // The slot of `instance` if it holds an execution, without touching the order.
    const ResidentSlot* find(const std::string& instance) const;
    void drop(const std::string& instance);
    void clear();
    void set_capacity(std::size_t capacity);
    void set_limits(std::size_t capacity, std::size_t max_bytes);
    // Evicts least recently used slots while over the count or the memory bound (slots grow
    // during turns: call it after them).
    void trim();

    std::size_t size() const { return slots_.size(); }
    std::size_t evictions() const { return evictions_; }
    // The summed footprint_bytes of the slots: a running total, O(slots handed out by slot()
    // since the last trim()), not a walk over every slot.
    std::size_t footprint_bytes() const;
    // The same sum recounted over every slot (O(slots)): for tests of the running total.
    std::size_t recounted_footprint_bytes() const;

private:
    std::size_t capacity_;
    std::size_t max_bytes_;
    std::size_t evictions_ = 0;
    std::list<std::string> order_; // most recently used first
    struct Entry {
        ResidentSlot slot;
        std::list<std::string>::iterator position;
        std::size_t counted = 0; // this slot's footprint_bytes as included in counted_bytes_
        bool handed_out = false; // in handed_out_: its caller may have changed footprint_bytes
    };
    std::unordered_map<std::string, Entry> slots_;
    // The running total: the sum of every entry's `counted`. A slot's footprint changes only
    // through the pointer slot() returns (a turn sets it, ResidentSlot::clear() zeroes it), so
    // the slots handed out since the last settle() are the only ones whose `counted` may lag.
    std::size_t counted_bytes_ = 0;
    std::vector<std::string> handed_out_;
    // Brings `counted` of the handed-out slots up to date, and counted_bytes_ with them.
    void settle();
    void forget(Entry& entry); // before erasing an entry: takes its bytes off the total
};

} // namespace duroxide::core
