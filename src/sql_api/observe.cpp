// duroxide._instance_timeline_svg(tree text, root text, now_ms bigint) → text and
// duroxide._instance_graph_mermaid(tree text, root text) → text: the pictures of
// src/core/observe at the SQL boundary. `tree` is the instance tree with the current
// execution's history of each instance, as duroxide.instance_timeline_svg and
// duroxide.instance_graph_mermaid read it after their access check (core/observe/tree_input.hpp);
// no SQL runs in C++. A tree that does not decode is SQLSTATE 22023.
#include "core/codec/json_codec.hpp"
#include "core/observe/instance_graph.hpp"
#include "core/observe/timeline_svg.hpp"
#include "core/observe/tree_input.hpp"
#include "pg/guard.hpp"
#include "sql_api/arguments.hpp"

extern "C" {
#include "utils/builtins.h"
}

#include <stdexcept>

namespace {

using namespace duroxide;

std::vector<core::observe::InstanceHistory> decode_tree(const std::string& tree) {
    std::string problem;
    try {
        return core::observe::decode_instance_tree(tree);
    } catch (const std::invalid_argument& e) {
        problem = e.what();
    } catch (const core::codec::CodecError& e) {
        problem = e.what();
    }
    if (problem.size() > 512) {
        problem = problem.substr(0, 512) + "...";
    }
    throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "cannot draw the instance: " + problem, "",
                       "The history of an instance of the tree does not decode.");
}

Datum text_datum(const std::string& out) {
    return PointerGetDatum(pg::call(
        [&out] { return cstring_to_text_with_len(out.data(), static_cast<int>(out.size())); }));
}

} // namespace

DUROXIDE_SQL_FUNCTION(duroxide_instance_timeline_svg) {
    const std::string tree = sql_api::required_text(fcinfo, 0, "tree");
    const std::string root = sql_api::required_text(fcinfo, 1, "root");
    const int64 now_ms = PG_GETARG_INT64(2);
    const auto instances = decode_tree(tree);
    const auto timeline = core::observe::build_timeline(
        instances, root, static_cast<uint64_t>(std::max<int64>(now_ms, 0)));
    return text_datum(core::observe::timeline_svg(timeline));
}

DUROXIDE_SQL_FUNCTION(duroxide_instance_graph_mermaid) {
    const std::string tree = sql_api::required_text(fcinfo, 0, "tree");
    const std::string root = sql_api::required_text(fcinfo, 1, "root");
    return text_datum(core::observe::instance_graph_mermaid(decode_tree(tree), root));
}
