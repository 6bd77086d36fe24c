// Levels of the trace lines orchestrations and activities write to the server log
// (Debug -> DEBUG1, Info -> LOG, Warn -> WARNING, Error -> WARNING with the word "error").
#pragma once

namespace duroxide {

enum class TraceLevel { Debug, Info, Warn, Error };

} // namespace duroxide
