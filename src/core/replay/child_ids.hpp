// Sub-orchestration instance ids: the checks at schedule time, and the answer a parent gets
// when the id it chose is already taken by an instance that is not its child.
#pragma once

#include "core/model/event.hpp"
#include "core/model/work_item.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duroxide::core {

// Why `child` cannot be the instance id of a sub-orchestration scheduled by `parent` (whose
// own parent, if any, is `grandparent`): the SQL API's identifier rules (a generated id of a
// deep nesting grows past their length), or the id of the parent itself or of its parent (the
// child would never start: the start message would go to a running ancestor). nullopt if fine.
std::optional<std::string> child_id_problem(std::string_view child, std::string_view parent,
                                            const std::optional<std::string>& grandparent);

// For the StartOrchestration messages of `messages` that ask to start, as the child of some
// parent, the instance `started` (this execution's start event) already is, except `started`'s
// own start: a SubOrchFailed for each parent that is not this instance's parent (or asks for
// another child slot). A redelivered start from the instance's own parent is ignored.
std::vector<WorkItem> refuse_foreign_starts(std::string_view instance,
                                            const events::OrchestrationStarted& started,
                                            const std::vector<WorkItem>& messages,
                                            const WorkItem* own_start);

} // namespace duroxide::core
