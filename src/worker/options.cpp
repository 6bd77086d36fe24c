#include "worker/options.hpp"

#include "core/routing/tag_filter.hpp"

#include <fstream>
#include <map>
#include <sstream>

namespace duroxide::worker {

namespace {

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\r");
    return std::string(text.substr(first, last - first + 1));
}

int number(const std::string& key, const std::string& value, int low, int high) {
    try {
        std::size_t used = 0;
        const int n = std::stoi(value, &used);
        if (used == value.size() && n >= low && n <= high) {
            return n;
        }
    } catch (const std::exception&) {
    }
    throw OptionsError(key + " must be a whole number from " + std::to_string(low) + " to " +
                       std::to_string(high) + " (got \"" + value + "\")");
}

void set(Options& options, const std::string& key, const std::string& value) {
    if (key == "connection" || key == "conninfo") {
        options.conninfo = value;
    } else if (key == "worker-id" || key == "worker_id") {
        options.worker_id = value;
    } else if (key == "tags") {
        options.tags = value;
    } else if (key == "concurrency") {
        options.concurrency = number(key, value, 1, 64);
    } else if (key == "plugin" || key == "plugins") {
        std::stringstream list(value);
        std::string path;
        while (std::getline(list, path, ',')) {
            if (!trim(path).empty()) {
                options.plugins.push_back(trim(path));
            }
        }
    } else if (key == "lock-timeout" || key == "lock_timeout") {
        options.lock_timeout_ms = number(key, value, 1000, 86400000);
    } else if (key == "batch") {
        options.batch = number(key, value, 1, 100);
    } else if (key == "max-sessions" || key == "max_sessions") {
        options.max_sessions = number(key, value, 0, 1000);
    } else if (key == "poll-interval" || key == "poll_interval") {
        options.poll_interval_ms = number(key, value, 10, 3600000);
    } else if (key == "statement-timeout" || key == "statement_timeout") {
        options.statement_timeout_ms = number(key, value, 0, 86400000);
    } else if (key == "fiber-stack-kb" || key == "fiber_stack_kb") {
        options.fiber_stack_kb = number(key, value, 64, 65536);
    } else {
        throw OptionsError("unknown option \"" + key + "\" (see duroxide-worker --help)");
    }
}

void read_config(Options& options, const std::string& path) {
    std::ifstream file(path);
    if (!file) {
        throw OptionsError("cannot read config file \"" + path + "\"");
    }
    std::string line;
    int number_of_line = 0;
    while (std::getline(file, line)) {
        ++number_of_line;
        const std::string text = trim(line);
        if (text.empty() || text[0] == '#') {
            continue;
        }
        const auto eq = text.find('=');
        if (eq == std::string::npos) {
            throw OptionsError(path + ":" + std::to_string(number_of_line) +
                               ": expected \"key = value\"");
        }
        set(options, trim(text.substr(0, eq)), trim(text.substr(eq + 1)));
    }
}

} // namespace

Options parse_options(int argc, const char* const* argv) {
    // The config file first, so that the command line overrides it.
    std::vector<std::pair<std::string, std::string>> given;
    Options options;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            options.help = true;
            return options;
        }
        if (!arg.starts_with("--")) {
            throw OptionsError("unexpected argument \"" + arg + "\" (see duroxide-worker --help)");
        }
        arg = arg.substr(2);
        std::string value;
        if (const auto eq = arg.find('='); eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            throw OptionsError("--" + arg + " needs a value");
        }
        given.emplace_back(arg, value);
    }
    bool plugins_on_command_line = false;
    for (const auto& [key, value] : given) {
        if (key == "config") {
            read_config(options, value);
        }
        plugins_on_command_line = plugins_on_command_line || key == "plugin";
    }
    if (plugins_on_command_line) {
        options.plugins.clear();
    }
    for (const auto& [key, value] : given) {
        if (key != "config") {
            set(options, key, value);
        }
    }
    if (options.worker_id.empty()) {
        throw OptionsError("worker-id is required (a name unique among the workers of a database)");
    }
    if (options.plugins.empty()) {
        throw OptionsError("give at least one plugin (--plugin PATH)");
    }
    try {
        if (core::parse_tag_filter(options.tags).mode != core::TagFilter::Mode::Tags) {
            throw OptionsError("tags must be \"tags:<tag>[,<tag>...]\" (remote workers run "
                               "tagged activities only)");
        }
    } catch (const core::TagFilterError& e) {
        throw OptionsError(std::string("tags: ") + e.what());
    }
    return options;
}

std::string usage() {
    return R"(duroxide-worker: runs duroxide plugin activities pulled from a PostgreSQL server.

Usage: duroxide-worker [--config FILE] [--OPTION VALUE ...]

Options (also "key = value" lines of the config file; the command line wins):
  --connection CONNINFO   libpq connection string (or PG* environment variables);
                          its role needs membership in duroxide_worker
  --worker-id NAME        this worker's name, unique per database; slot n attaches as NAME-n
  --tags tags:A[,B...]    the activity tags this worker runs (required)
  --plugin PATH           a plugin .so to load (repeat, or a comma-separated list)
  --concurrency N         activities run at once, one connection each (default 1)
  --lock-timeout MS       activity lease; renewed at the activity's heartbeats (default 30000)
  --batch N               activities claimed at once per slot (default 1)
  --max-sessions N        sessions one slot owns at most (default 10)
  --poll-interval MS      idle claim interval when no notification comes (default 1000)
  --statement-timeout MS  statement_timeout of ctx.sql() statements (default: the role's)
  --fiber-stack-kb N      stack size of an activity's fiber (default 256)
  --config FILE           read options from FILE
  -h, --help              this text
)";
}

} // namespace duroxide::worker
