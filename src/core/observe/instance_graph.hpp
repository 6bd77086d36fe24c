// The instance tree as a Mermaid flowchart ("graph TD"): one node per instance (orchestration
// name, instance id, status), an edge from each parent to its sub-orchestrations, nodes
// coloured by status. Every user value is escaped as Mermaid entity codes.
#pragma once

#include "core/observe/timeline.hpp"

#include <span>
#include <string>

namespace duroxide::core::observe {

std::string instance_graph_mermaid(std::span<const InstanceHistory> tree, const std::string& root);

} // namespace duroxide::core::observe
