// Versions a plugin is checked against when it is loaded.
#pragma once

#include <cstdint>

namespace duroxide {

// Bumped whenever a public header changes in a way that breaks already-built plugins. The
// loader refuses a plugin built for another ABI.
inline constexpr std::uint32_t kAbiVersion = 5;
inline constexpr const char* kLibraryVersion = "0.2.0";

} // namespace duroxide
