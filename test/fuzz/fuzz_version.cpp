// libFuzzer target for the version parser (include/duroxide/semver.hpp): on any text it
// returns a version or throws std::invalid_argument; a parsed version prints back to exactly
// the canonical text and parses again to the same value.
#include <duroxide/semver.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    duroxide::Semver v;
    try {
        v = duroxide::Semver::parse(text);
    } catch (const std::invalid_argument&) {
        return 0;
    }
    const std::string printed = v.to_string();
    duroxide::Semver again;
    try {
        again = duroxide::Semver::parse(printed);
    } catch (const std::invalid_argument&) {
        std::abort();
    }
    if (again != v) {
        std::abort();
    }
    // Only digits and dots parse; the canonical spelling is never longer than the input
    // (leading zeros are dropped).
    if (printed.size() > text.size()) {
        std::abort();
    }
    return 0;
}
