// duroxide._workflow_progress(history text) → text: core::workflow::workflow_progress at the
// SQL boundary. `history` is the current execution's history as a JSON array of events
// (duroxide.workflow_progress reads it, after its access check, and passes it here; no SQL
// runs in C++). Returns the rows as JSON text. A history that is not a workflow's is
// SQLSTATE 22023. duroxide._workflow_progress(history text, children jsonb): the same, with
// the current-execution histories of the instance's branch children ({instance: history
// text}), so that the nodes inside branches are shown.
#include "core/codec/json_codec.hpp"
#include "core/workflow/progress.hpp"
#include "pg/guard.hpp"
#include "sql_api/arguments.hpp"

extern "C" {
#include "utils/builtins.h"
}

#include <map>
#include <stdexcept>

DUROXIDE_SQL_FUNCTION(duroxide_workflow_progress) {
    using namespace duroxide;
    const std::string history = sql_api::required_text(fcinfo, 0, "history");
    std::string out, problem;
    try {
        const std::vector<core::Event> events = core::codec::decode_history(history);
        std::map<std::string, std::vector<core::Event>> decoded;
        core::workflow::Json children;
        if (const auto children_text = sql_api::optional_text(fcinfo, 1)) {
            children = core::workflow::Json::parse(*children_text);
        }
        core::workflow::ChildHistories lookup;
        if (children.is_object()) {
            lookup = [&children,
                      &decoded](const std::string& id) -> const std::vector<core::Event>* {
                if (auto it = decoded.find(id); it != decoded.end()) {
                    return &it->second;
                }
                const core::workflow::Json* h = children.find(id);
                if (h == nullptr || !h->is_string()) {
                    return nullptr;
                }
                return &decoded.emplace(id, core::codec::decode_history(h->as_string()))
                            .first->second;
            };
        }
        out = core::workflow::workflow_progress(events, lookup).dump();
    } catch (const std::invalid_argument& e) {
        problem = e.what();
    } catch (const core::codec::CodecError& e) {
        problem = e.what();
    } catch (const core::workflow::JsonError& e) {
        problem = e.what();
    }
    if (!problem.empty()) {
        std::string message = problem;
        if (message.size() > 512) {
            message = message.substr(0, 512) + "...";
        }
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           "cannot derive workflow progress: " + message, "",
                           "workflow_progress describes instances started by start_workflow.");
    }
    PG_RETURN_TEXT_P(pg::call(
        [&out] { return cstring_to_text_with_len(out.data(), static_cast<int>(out.size())); }));
}
