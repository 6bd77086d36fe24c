// The dispatcher's resident cache: executions kept between turns (core/replay ResidentSlot),
// one per instance, least recently used evicted first. Pure C++; one per dispatcher process.
#pragma once

#include "core/replay/turn.hpp"

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>

namespace duroxide::core {

class ResidentCache {
public:
    explicit ResidentCache(std::size_t capacity) : capacity_(capacity) {}

    // The slot of `instance` (created empty when absent), marked most recently used. Evicts the
    // least recently used slot when over capacity; nullptr when the cache is disabled (0).
    ResidentSlot* slot(const std::string& instance);
    // The slot of `instance` if it holds an execution, without touching the order.
    const ResidentSlot* find(const std::string& instance) const;
    void drop(const std::string& instance);
    void clear();
    void set_capacity(std::size_t capacity);

    std::size_t size() const { return slots_.size(); }
    std::size_t evictions() const { return evictions_; }

private:
    void trim();

    std::size_t capacity_;
    std::size_t evictions_ = 0;
    std::list<std::string> order_; // most recently used first
    struct Entry {
        ResidentSlot slot;
        std::list<std::string>::iterator position;
    };
    std::unordered_map<std::string, Entry> slots_;
};

} // namespace duroxide::core
