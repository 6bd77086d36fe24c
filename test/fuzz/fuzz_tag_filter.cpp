// libFuzzer target for the tag-filter parsers (src/core/routing): on any text they return a
// filter or throw TagFilterError, and a parsed filter reads back the same from its own spelling.
// The first input byte picks the parser (and, for the per-worker overrides, the highest index).
#include "core/routing/tag_filter.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using duroxide::core::TagFilter;
using duroxide::core::TagFilterError;

namespace {

void check_round_trip(const TagFilter& filter) {
    TagFilter again;
    try {
        again = duroxide::core::parse_tag_filter(filter.to_string());
    } catch (const TagFilterError&) {
        std::abort(); // the parser refuses its own spelling
    }
    if (!(again == filter)) {
        std::abort();
    }
    for (const auto& tag : filter.tags) {
        if (duroxide::core::tag_name_problem(tag)) {
            std::abort(); // a filter admitted a tag no activity may carry
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    const int selector = data[0];
    if (selector % 2 == 0) {
        try {
            check_round_trip(duroxide::core::parse_tag_filter(text));
        } catch (const TagFilterError&) {
        }
    } else {
        const int max_index = (selector >> 1) % 64; // 0..63 activity workers
        try {
            for (const auto& [index, filter] :
                 duroxide::core::parse_worker_tag_filters(text, max_index)) {
                if (index < 0 || index > max_index) {
                    std::abort();
                }
                check_round_trip(filter);
            }
        } catch (const TagFilterError&) {
        }
    }
    return 0;
}
