#include "core/validation/message_quote.hpp"

namespace duroxide::core {

namespace {

bool is_continuation(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

} // namespace

std::string quoted(std::string_view value, std::size_t max_bytes) {
    std::size_t cut = value.size();
    if (cut > max_bytes) {
        cut = max_bytes;
        while (cut > 0 && is_continuation(static_cast<unsigned char>(value[cut]))) {
            --cut;
        }
    }
    std::string out = "\"";
    for (std::size_t i = 0; i < cut; ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                static constexpr char kHex[] = "0123456789abcdef";
                out += "\\x";
                out += kHex[c >> 4];
                out += kHex[c & 0xf];
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
    if (cut < value.size()) {
        out += "... (" + std::to_string(value.size()) + " bytes)";
    }
    return out;
}

} // namespace duroxide::core
