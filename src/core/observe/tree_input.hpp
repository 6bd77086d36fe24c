// The instance tree as duroxide.instance_timeline_svg / instance_graph_mermaid hand it to C++:
// a JSON array of {"instance": text, "parent": text or null, "status": text or null,
// "history": text (the current execution's events as a JSON array, as the store keeps them)}.
#pragma once

#include "core/observe/timeline.hpp"

#include <string_view>
#include <vector>

namespace duroxide::core::observe {

// Throws std::invalid_argument naming what is wrong (and codec::CodecError for a history that
// does not decode).
std::vector<InstanceHistory> decode_instance_tree(std::string_view json);

} // namespace duroxide::core::observe
