#include "runtime/gucs.hpp"

#include "pg/postgres.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace duroxide::runtime {

Settings settings;

void define_gucs() {
    DefineCustomStringVariable(
        "duroxide.database", "Database the duroxide launcher connects to.",
        "The launcher reads the list of databases from here; workers run in every database "
        "that has the extension.",
        &settings.database, "postgres", PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.activity_workers", "Number of activity worker processes per database.", nullptr,
        &settings.activity_workers, 2, 0, 64, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("duroxide.orchestration_dispatchers",
                            "Number of orchestration dispatcher processes per database.", nullptr,
                            &settings.orchestration_dispatchers, 1, 0, 16, PGC_POSTMASTER, 0,
                            nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.poll_interval", "Safety-net polling interval of idle workers.",
        "Workers are woken at commit by the transactions that enqueue work; this interval only "
        "bounds how long a missed wake-up can delay work.",
        &settings.poll_interval_ms, 1000, 10, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr,
        nullptr, nullptr);
    DefineCustomIntVariable(
        "duroxide.max_attempts", "Fetch attempts after which a message is treated as poison.",
        nullptr, &settings.max_attempts, 10, 1, 1000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("duroxide.fiber_stack_size",
                            "Stack size of each orchestration and activity fiber.", nullptr,
                            &settings.fiber_stack_kb, 256, 64, 16 * 1024, PGC_SIGHUP, GUC_UNIT_KB,
                            nullptr, nullptr, nullptr);
    DefineCustomIntVariable("duroxide.max_payload_size",
                            "Largest orchestration input, event payload or output accepted.",
                            "Larger values are refused at the SQL boundary before anything is "
                            "written.",
                            &settings.max_payload_kb, 3072, 1, 1024 * 1024, PGC_SUSET, GUC_UNIT_KB,
                            nullptr, nullptr, nullptr);
    DefineCustomStringVariable(
        "duroxide.plugin_directories",
        "Absolute directories, besides $libdir, from which plugins may be loaded.",
        "Comma-separated. Loading a plugin runs its code in the server: list only directories "
        "that only trusted administrators can write to.",
        &settings.plugin_directories, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY, nullptr, nullptr,
        nullptr);
    MarkGUCPrefixReserved("duroxide");
}

} // namespace duroxide::runtime
