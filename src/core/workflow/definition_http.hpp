// Validation of the http and http_multipart nodes (docs/workflows.md): the request template an
// activity worker sends with libcurl (runtime/activity/workflow_http_step.cpp).
#pragma once

#include "core/workflow/definition.hpp"

#include <string>

namespace duroxide::core::workflow {

// A multipart request has at most this many parts.
inline constexpr std::size_t kMaxMultipartParts = 100;

// Fills n.value with the request template (and n.retry, n.tag); throws DefinitionError.
void parse_http_node(Node& n, const Json& json, const std::string& path,
                     const ValidationContext& ctx);

} // namespace duroxide::core::workflow
