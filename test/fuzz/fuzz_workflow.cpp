// libFuzzer target for the workflow-definition validator (src/core/workflow/definition) and
// the cron parser it uses (src/core/schedule/cron). On any text the validator returns a node
// tree or throws DefinitionError with a JSON path from the root ("$..."); a tree it accepted is
// accepted again from its own JSON, with the same shape. On any text the cron parser returns a
// schedule or throws CronError, and a schedule's next fire time is later and matches.
// The first input byte picks the parser.
#include "core/schedule/cron.hpp"
#include "core/workflow/definition.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace wf = duroxide::core::workflow;
namespace sched = duroxide::core::schedule;

namespace {

std::size_t count_nodes(const wf::Node& n) {
    std::size_t total = 1;
    for (const auto& child : n.children) {
        total += count_nodes(child);
    }
    return total;
}

void check_definition(std::string_view text) {
    wf::Node root;
    try {
        root = wf::parse_definition_text(text);
    } catch (const wf::DefinitionError& e) {
        if (e.path().empty() || e.path()[0] != '$') {
            std::abort(); // every refusal names where
        }
        return;
    }
    if (root.path != "$") {
        std::abort();
    }
    // Accepted once, accepted again from the JSON it kept, with the same shape.
    wf::Node again;
    try {
        again = wf::parse_definition(root.source);
    } catch (const wf::DefinitionError&) {
        std::abort();
    }
    if (count_nodes(again) != count_nodes(root) || again.kind != root.kind) {
        std::abort();
    }
}

void check_cron(std::string_view text) {
    sched::CronSchedule schedule;
    try {
        schedule = sched::CronSchedule::parse(text);
    } catch (const sched::CronError&) {
        return;
    }
    const sched::CivilMinute after{2026, 12, 7, 13, 54};
    const std::optional<sched::CivilMinute> next = schedule.next_after(after);
    if (!next) {
        std::abort(); // parse refuses what never fires
    }
    if (!schedule.matches(*next) ||
        sched::unix_ms_from_civil(*next) <= sched::unix_ms_from_civil(after)) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] % 4 == 0) {
        check_cron(text);
    } else {
        check_definition(text);
    }
    return 0;
}
