#include "runtime/process/standby_guard.hpp"

#include "pg/postgres.hpp"

#include <cstring>

extern "C" {
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "fmgr.h"
#include "utils/lsyscache.h"
}

namespace duroxide::runtime {

namespace {

// The VOLATILE functions of schema duroxide that only read (they are VOLATILE because they
// read shared memory, wait, or must not be folded by the planner). Everything else VOLATILE in
// the extension's schemas writes and is refused on a standby. Keep in step with the list in
// test/tap/028_failover_sync.pl.
constexpr const char* kStandbyReads[] = {
    "get_runtime_status",           // this server's processes (none on a standby)
    "get_metrics",                  // shared-memory counters (the metrics views)
    "monitoring_metrics",           // the Prometheus views
    "monitoring_processes",         //
    "wait_for_orchestration",       // waits: they read until a status changes or time runs out
    "wait_for_status_change",       //
    "wait_for_kv_value",            //
    "_await_status_change",         // the waits' sleep on the status-change counter
    "_status_change_count",         //
    "_lock_holder_alive",           // lease columns of the operator views
    "_session_owner_pid",           // duroxide.sessions
    "_written_by_this_transaction", // reads the row's xmin
};

needs_fmgr_hook_type previous_needs_hook = nullptr;
fmgr_hook_type previous_hook = nullptr;

// Plain C code between PostgreSQL frames (the function manager calls it): nothing here throws,
// and no object with a destructor is alive when ereport raises.
bool is_guarded_schema(Oid namespace_oid) {
    return namespace_oid == get_namespace_oid("duroxide", true) ||
           namespace_oid == get_namespace_oid("duroxide_internal", true);
}

// Whether calling `function` must be refused here: we are in recovery and it is a VOLATILE
// function of the extension's schemas that is not a read.
bool refused_on_standby(Oid function) {
    // Built-in functions are never ours; outside a transaction (no catalog lookups possible)
    // nothing of ours runs.
    if (function < FirstNormalObjectId || !RecoveryInProgress() || !IsTransactionState()) {
        return false;
    }
    const Oid namespace_oid = get_func_namespace(function);
    if (!OidIsValid(namespace_oid) || !is_guarded_schema(namespace_oid) ||
        func_volatile(function) != PROVOLATILE_VOLATILE) {
        return false;
    }
    char* name = get_func_name(function);
    if (name == nullptr) {
        return false;
    }
    bool read = false;
    for (const char* allowed : kStandbyReads) {
        read = read || std::strcmp(name, allowed) == 0;
    }
    pfree(name);
    return !read;
}

bool needs_hook(Oid function) {
    if (refused_on_standby(function)) {
        return true;
    }
    return previous_needs_hook != nullptr && previous_needs_hook(function);
}

void on_function_call(FmgrHookEventType event, FmgrInfo* flinfo, Datum* private_data) {
    if (event == FHET_START && refused_on_standby(flinfo->fn_oid)) {
        const Oid function = flinfo->fn_oid;
        ereport(ERROR,
                (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
                 errmsg("%s.%s() writes and cannot run on a standby server",
                        get_namespace_name(get_func_namespace(function)), get_func_name(function)),
                 errdetail("This server is a hot standby (in recovery): it is read-only, and "
                           "duroxide runs no dispatcher or worker here."),
                 errhint("Connect to the primary server. On a standby only reads (status, "
                         "history, lists, metrics) work; the workers start by themselves when "
                         "it is promoted.")));
    }
    if (previous_hook != nullptr) {
        previous_hook(event, flinfo, private_data);
    }
}

} // namespace

void install_standby_guard() {
    previous_needs_hook = needs_fmgr_hook;
    previous_hook = fmgr_hook;
    needs_fmgr_hook = needs_hook;
    fmgr_hook = on_function_call;
}

} // namespace duroxide::runtime
