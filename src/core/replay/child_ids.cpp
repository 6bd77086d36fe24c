#include "core/replay/child_ids.hpp"

#include "core/schedule/policy.hpp"
#include "core/validation/identifiers.hpp"

#include <variant>

namespace duroxide::core {

namespace {

// Instance ids in messages are quoted and cut, as the SQL API's messages do.
std::string quoted(std::string_view id) {
    constexpr std::size_t kShown = 64;
    std::string shown(id.substr(0, kShown));
    for (char& c : shown) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            c = '?'; // no control characters in messages and logs
        }
    }
    return "\"" + shown + (id.size() > kShown ? "...\"" : "\"");
}

} // namespace

std::optional<std::string> child_id_problem(std::string_view child, std::string_view parent,
                                            const std::optional<std::string>& grandparent) {
    if (const auto problem = identifier_problem(child)) {
        return "sub-orchestration instance id " + quoted(child) + ": " + *problem;
    }
    if (schedule::is_schedule_instance_id(child)) {
        // The runs of recurring schedules: a child must not take a future fire's id.
        return "sub-orchestration instance id " + quoted(child) +
               " has the form reserved for recurring schedules";
    }
    if (child == parent) {
        return "sub-orchestration instance id " + quoted(child) +
               " is the id of the orchestration that schedules it";
    }
    if (grandparent && child == *grandparent) {
        return "sub-orchestration instance id " + quoted(child) +
               " is the id of an ancestor of the orchestration that schedules it";
    }
    return std::nullopt;
}

std::vector<WorkItem> refuse_foreign_starts(std::string_view instance,
                                            const events::OrchestrationStarted& started,
                                            const std::vector<WorkItem>& messages,
                                            const WorkItem* own_start) {
    std::vector<WorkItem> refusals;
    for (const WorkItem& message : messages) {
        const auto* start = std::get_if<work::StartOrchestration>(&message.kind);
        if (start == nullptr || &message == own_start || !start->parent_instance ||
            !start->parent_id) {
            continue; // a client's start of an existing instance is dropped, as before
        }
        const bool own_parent = started.parent_instance == start->parent_instance &&
                                started.parent_id == start->parent_id &&
                                started.parent_execution_id == start->parent_execution_id;
        if (own_parent) {
            continue; // redelivered
        }
        refusals.push_back({work::SubOrchFailed{
            .parent_instance = *start->parent_instance,
            .parent_execution_id = start->parent_execution_id.value_or(0),
            .parent_id = *start->parent_id,
            .details = ErrorDetails::orchestration_failed(
                "sub-orchestration instance id " + quoted(instance) +
                " is already in use by another instance: the child was not started")}});
    }
    return refusals;
}

} // namespace duroxide::core
