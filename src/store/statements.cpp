#include "store/statements.hpp"

namespace duroxide::store {

pg::StatementSet& statement_set() {
    // Every duroxide statement is an index lookup on tables that grow and shrink by thousands of
    // rows between two autovacuum analyses; a plan made while a queue was nearly empty would
    // otherwise scan it whole once it is large. Bitmap scans for the same reason: made on an
    // empty worker queue, the activity fetch's plan read every visible row and sorted them to
    // take the first (O(queue) per fetch) instead of walking its (visible_at, id) index in
    // order. JIT off: the disabled scans' cost would otherwise make every tiny statement look
    // worth compiling. Always the generic plan: a custom plan is planned again on every
    // execution and, made while a queue table is small, picks scans that do not scale as it
    // grows; ANALYZE (autovacuum) invalidates the generic plan so that it follows the data.
    // Prepared once and kept: the workers run the same few statements thousands of times, and
    // parsing and planning them each time was a large part of a turn's CPU.
    static pg::StatementSet statements(
        "store",
        pg::PlanPolicy{
            .settings = {{"enable_seqscan", "off"}, {"enable_bitmapscan", "off"}, {"jit", "off"}},
            .generic_plan = true,
        },
        256);
    return statements;
}

} // namespace duroxide::store
