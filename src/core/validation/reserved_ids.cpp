#include "core/validation/reserved_ids.hpp"

namespace duroxide::core {

bool is_generated_child_id(std::string_view instance) {
    const std::size_t at = instance.rfind(kChildIdMarker);
    if (at == std::string_view::npos || at == 0) {
        return false;
    }
    const std::string_view digits = instance.substr(at + kChildIdMarker.size());
    if (digits.empty()) {
        return false;
    }
    for (char c : digits) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

} // namespace duroxide::core
