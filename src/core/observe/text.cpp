#include "core/observe/text.hpp"

#include <cstdint>

namespace duroxide::core::observe {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD"; // U+FFFD

// The code point starting at text[i] and its length in bytes; length 0 for malformed UTF-8
// (a stray continuation byte, a truncated or overlong sequence, a surrogate, beyond U+10FFFF).
struct CodePoint {
    uint32_t value = 0;
    std::size_t length = 0;
};

CodePoint decode_at(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    if (lead < 0x80) {
        return {lead, 1};
    }
    std::size_t length = 0;
    uint32_t value = 0;
    if ((lead & 0xE0) == 0xC0) {
        length = 2;
        value = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3;
        value = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4;
        value = lead & 0x07;
    } else {
        return {};
    }
    if (i + length > text.size()) {
        return {};
    }
    for (std::size_t k = 1; k < length; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) {
            return {};
        }
        value = (value << 6) | (byte(i + k) & 0x3F);
    }
    static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (value < kSmallest[length] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
        return {};
    }
    return {value, length};
}

bool xml_char(uint32_t c) {
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || c >= 0x10000;
}

} // namespace

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const CodePoint cp = decode_at(text, i);
        if (cp.length == 0) {
            out += kReplacement;
            ++i;
            continue;
        }
        switch (cp.value) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&apos;";
            break;
        default:
            if (xml_char(cp.value)) {
                out.append(text.substr(i, cp.length));
            } else {
                out += kReplacement;
            }
        }
        i += cp.length;
    }
    return out;
}

std::string shorten(std::string_view text, std::size_t max_chars) {
    std::string out;
    std::size_t chars = 0;
    for (std::size_t i = 0; i < text.size();) {
        const CodePoint cp = decode_at(text, i);
        const std::size_t length = cp.length == 0 ? 1 : cp.length;
        if (chars == max_chars) {
            if (max_chars >= 3) {
                // Replace the last three characters by "...".
                for (int dropped = 0; dropped < 3 && !out.empty(); ++dropped) {
                    std::size_t cut = out.size() - 1;
                    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) {
                        --cut;
                    }
                    out.resize(cut);
                }
                out += "...";
            }
            return out;
        }
        if (cp.value == '\n' || cp.value == '\r' || cp.value == '\t') {
            out += ' ';
        } else {
            out.append(text.substr(i, length));
        }
        ++chars;
        i += length;
    }
    return out;
}

std::string mermaid_escape(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        const CodePoint cp = decode_at(text, i);
        if (cp.length == 0) {
            out += "#65533;";
            ++i;
            continue;
        }
        const uint32_t c = cp.value;
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == ' ' || c == '_' || c == '.' || c == ',' ||
                           c == ':' || c == '/' || c == '-' || c == '(' || c == ')';
        if (plain) {
            out += static_cast<char>(c);
        } else {
            out += "#" + std::to_string(c) + ";";
        }
        i += cp.length;
    }
    return out;
}

std::string duration_text(uint64_t ms) {
    if (ms < 1000) {
        return std::to_string(ms) + " ms";
    }
    if (ms < 60'000) {
        const uint64_t tenths = ms / 100;
        return std::to_string(tenths / 10) +
               (tenths % 10 ? "." + std::to_string(tenths % 10) : std::string()) + " s";
    }
    if (ms < 3'600'000) {
        const uint64_t seconds = ms / 1000;
        return std::to_string(seconds / 60) + " min" +
               (seconds % 60 ? " " + std::to_string(seconds % 60) + " s" : std::string());
    }
    const uint64_t minutes = ms / 60'000;
    return std::to_string(minutes / 60) + " h" +
           (minutes % 60 ? " " + std::to_string(minutes % 60) + " min" : std::string());
}

} // namespace duroxide::core::observe
