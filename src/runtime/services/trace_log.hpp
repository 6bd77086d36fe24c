// Trace lines of orchestrations and activities, written to the server log.
#pragma once

#include "duroxide/trace.hpp"

#include <string>
#include <string_view>

namespace duroxide::runtime {

// Writes "duroxide: <context>: <message>" at the PostgreSQL level of `level`: Debug as DEBUG1,
// Info as LOG, Warn and Error as WARNING (Error lines say "error:").
void write_trace(TraceLevel level, const std::string& context, std::string_view message);

} // namespace duroxide::runtime
