// Semantic versions of orchestrations ("1.0.0"): parsed strictly, ordered numerically.
#pragma once

#include <compare>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace duroxide {

struct Semver {
    std::uint32_t major = 0, minor = 0, patch = 0;

    // "MAJOR.MINOR.PATCH", each a decimal number without sign or leading '+'; throws
    // std::invalid_argument with the offending text otherwise.
    static Semver parse(std::string_view text) {
        Semver v;
        std::uint32_t* parts[3] = {&v.major, &v.minor, &v.patch};
        std::size_t pos = 0;
        for (int i = 0; i < 3; ++i) {
            std::size_t start = pos;
            std::uint64_t value = 0;
            while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
                value = value * 10 + static_cast<std::uint64_t>(text[pos] - '0');
                if (value > UINT32_MAX) {
                    throw std::invalid_argument("version number too large in \"" +
                                                std::string(text) + "\"");
                }
                ++pos;
            }
            if (pos == start || (i < 2 && (pos >= text.size() || text[pos] != '.'))) {
                throw std::invalid_argument("invalid version \"" + std::string(text) +
                                            "\": expected MAJOR.MINOR.PATCH");
            }
            *parts[i] = static_cast<std::uint32_t>(value);
            if (i < 2) {
                ++pos;
            }
        }
        if (pos != text.size()) {
            throw std::invalid_argument("invalid version \"" + std::string(text) +
                                        "\": expected MAJOR.MINOR.PATCH");
        }
        return v;
    }

    std::string to_string() const {
        return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
    }

    auto operator<=>(const Semver&) const = default;
};

} // namespace duroxide
