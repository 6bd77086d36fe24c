// duroxide-worker's options: command line and a config file of "key = value" lines (the same
// keys as the long options; the command line wins). docs/operations.md, "Remote activity
// workers", lists them.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace duroxide::worker {

struct Options {
    std::string conninfo;             // libpq connection string
    std::string worker_id;            // slots attach as <worker_id>-<n>
    std::string tags;                 // the tag filter: "tags:a,b"
    int concurrency = 1;              // slots: connections, each running one activity at a time
    std::vector<std::string> plugins; // paths of plugin .so files
    int lock_timeout_ms = 30000;      // activity lease
    int batch = 1;                    // activities claimed at once per slot
    int max_sessions = 10;            // sessions one slot owns at most
    int poll_interval_ms = 1000;      // idle wait between claims when no notification comes
    int statement_timeout_ms = 0;     // statement_timeout of ctx.sql() statements (0: server's)
    int fiber_stack_kb = 256;
    bool help = false;
};

struct OptionsError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// Parses argv (and the --config file it names); throws OptionsError.
Options parse_options(int argc, const char* const* argv);
// The --help text.
std::string usage();

} // namespace duroxide::worker
