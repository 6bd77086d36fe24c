#include "core/observe/instance_graph.hpp"

#include "core/observe/text.hpp"

#include <deque>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace duroxide::core::observe {

namespace {

std::string orchestration_name(const InstanceHistory& h) {
    for (const Event& e : h.history) {
        if (const auto* started = std::get_if<events::OrchestrationStarted>(&e.kind)) {
            return started->name;
        }
    }
    return "";
}

const char* status_class(const std::string& status) {
    if (status == "Completed") {
        return "completed";
    }
    if (status == "Failed") {
        return "failed";
    }
    if (status == "Pending") {
        return "pending";
    }
    return "running";
}

} // namespace

std::string instance_graph_mermaid(std::span<const InstanceHistory> tree, const std::string& root) {
    std::unordered_map<std::string, const InstanceHistory*> by_id;
    std::unordered_map<std::string, std::vector<const InstanceHistory*>> children;
    for (const auto& h : tree) {
        by_id.emplace(h.instance, &h);
        if (h.parent) {
            children[*h.parent].push_back(&h);
        }
    }
    std::string out = "graph TD\n";
    auto it = by_id.find(root);
    if (it == by_id.end()) {
        return out;
    }
    // Breadth first from the root; node ids are positions (n0 is the root), never user text.
    std::unordered_map<std::string, std::size_t> node;
    std::vector<const InstanceHistory*> order;
    std::deque<const InstanceHistory*> queue{it->second};
    node.emplace(root, 0);
    std::string edges;
    while (!queue.empty()) {
        const InstanceHistory* h = queue.front();
        queue.pop_front();
        order.push_back(h);
        for (const InstanceHistory* child : children[h->instance]) {
            if (node.emplace(child->instance, node.size()).second) {
                queue.push_back(child);
                edges += "    n" + std::to_string(node.at(h->instance)) + " --> n" +
                         std::to_string(node.at(child->instance)) + "\n";
            }
        }
    }
    for (const InstanceHistory* h : order) {
        const std::string name = orchestration_name(*h);
        out += "    n" + std::to_string(node.at(h->instance)) + "[\"" +
               (name.empty() ? std::string() : mermaid_escape(shorten(name, 80)) + "<br/>") +
               mermaid_escape(shorten(h->instance, 120)) + "<br/>" +
               mermaid_escape(h->status.empty() ? "Pending" : shorten(h->status, 40)) + "\"]\n";
    }
    out += edges;
    out += "    classDef completed fill:#c8e6c9,stroke:#2e7d32\n"
           "    classDef failed fill:#ffcdd2,stroke:#b71c1c\n"
           "    classDef running fill:#bbdefb,stroke:#1565c0\n"
           "    classDef pending fill:#eeeeee,stroke:#757575\n";
    for (const InstanceHistory* h : order) {
        out += "    class n" + std::to_string(node.at(h->instance)) + " " +
               status_class(h->status.empty() ? "Pending" : h->status) + "\n";
    }
    return out;
}

} // namespace duroxide::core::observe
