#include "runtime/services/trace_log.hpp"

#include "pg/guard.hpp"

namespace duroxide::runtime {

void write_trace(TraceLevel level, const std::string& context, std::string_view message) {
    const int elevel = level == TraceLevel::Debug  ? DEBUG1
                       : level == TraceLevel::Info ? LOG
                                                   : WARNING;
    const std::string line = "duroxide: " + context + ": " +
                             (level == TraceLevel::Error ? "error: " : "") + std::string(message);
    pg::call([elevel, &line] { ereport(elevel, (errmsg_internal("%s", line.c_str()))); });
}

} // namespace duroxide::runtime
