// Instance ids the runtime reserves for itself. A sub-orchestration without an explicit id is
// "<parent>::sub::<event id>" (core/replay/turn.cpp); if a client could start such an id
// first, it would take the place of another instance's child (the parent would wait forever
// for a child that belongs to someone else). So clients may not start ids of that shape.
#pragma once

#include <string_view>

namespace duroxide::core {

inline constexpr std::string_view kChildIdMarker = "::sub::";

// Whether `instance` has the shape of a generated child id: "<something>::sub::<digits>".
bool is_generated_child_id(std::string_view instance);

} // namespace duroxide::core
