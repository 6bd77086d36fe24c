// The SQL functions of remote activity workers (duroxide-worker, src/worker; docs/operations.md
// "Remote activity workers"): a worker's connection attaches as a lease owner, claims activities
// by tag filter with the in-server workers' fetch (sessions, attempts), renews, checks, completes
// and abandons them through the store's worker-queue operations.
//
// Leases are tied to the connection: attaching registers this backend as a live lease owner in
// shared memory (the entries the store validation suite's probes use), dropped when the backend
// exits, so the leases and sessions of a worker that dies or loses its connection are free at
// once (duroxide._lock_holder_alive, duroxide._session_owner_pid), and after their timeout when
// the connection hangs. A completion is recorded in the caller's transaction after the activity's
// own statements: it commits with them, or raises (nothing written) when the lease is no longer
// this worker's.
#include "core/codec/json_codec.hpp"
#include "core/routing/tag_filter.hpp"
#include "core/validation/message_quote.hpp"
#include "pg/guard.hpp"
#include "runtime/activity/activity_access.hpp"
#include "runtime/activity/system_activities.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/process/shared_state.hpp"
#include "runtime/process/wakeup.hpp"
#include "runtime/services/metrics_at_commit.hpp"
#include "sql_api/arguments.hpp"
#include "store/remote_claims.hpp"
#include "store/store.hpp"

extern "C" {
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
}

#include <optional>
#include <string>

namespace {

using namespace duroxide;

// This backend's attachment (one per connection).
struct Attachment {
    int64 lease_owner = 0;
    std::string owner_id; // the session owner id: "remote:<worker id>"
};
std::optional<Attachment> attached;
bool exit_callback_registered = false;

constexpr std::string_view kOwnerPrefix = "remote:";
constexpr int kMaxLookups = 3; // fetches that lose a session race before the claim gives up

void forget_attachment(int, Datum) {
    if (attached) {
        runtime::drop_probe_owners(attached->lease_owner);
    }
}

const Attachment& require_attached() {
    if (!attached) {
        throw pg::SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                           "this connection is not attached as a remote worker", {},
                           "Attach this connection first (worker_attach).");
    }
    return *attached;
}

int int_arg(FunctionCallInfo fcinfo, int n, std::string_view what, int low, int high) {
    if (PG_ARGISNULL(n)) {
        throw pg::SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string(what) + " must not be NULL");
    }
    const int value = PG_GETARG_INT32(n);
    if (value < low || value > high) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           std::string(what) + " must be between " + std::to_string(low) + " and " +
                               std::to_string(high) + " (got " + std::to_string(value) + ")");
    }
    return value;
}

int64 id_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) {
        throw pg::SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "id must not be NULL");
    }
    return PG_GETARG_INT64(n);
}

store::SessionOwner session_owner(const Attachment& me, int max_sessions) {
    return {.owner_id = me.owner_id,
            .lease_owner = me.lease_owner,
            .lock_timeout_ms = runtime::settings.session_lock_timeout_ms,
            .max_sessions = max_sessions,
            .idle_timeout_ms = runtime::settings.session_idle_timeout_ms};
}

// The lease `id`/`token` as the store holds it; throws when it is no longer there.
store::FetchedActivity leased(pg::SpiConnection& spi, int64 id, const std::string& token) {
    std::optional<store::FetchedActivity> fetched = store::leased_activity(spi, id, token);
    if (!fetched) {
        throw pg::SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                           "activity lease " + std::to_string(id) + " is no longer held",
                           "The activity was completed, cancelled, or its lease expired and was "
                           "taken over.",
                           "Drop the result: another attempt records the activity.");
    }
    return *fetched;
}

// The remote worker's filter: tagged activities only (untagged, SQL and built-in activities
// stay with the in-server workers, which run what no remote worker provides).
core::TagFilter remote_tag_filter(const std::string& text) {
    core::TagFilter filter;
    try {
        filter = core::parse_tag_filter(text);
    } catch (const core::TagFilterError& e) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, e.what());
    }
    if (filter.mode != core::TagFilter::Mode::Tags) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           "a remote worker's tag filter must name its tags: " +
                               core::quoted(text) + " also admits untagged activities",
                           {},
                           "Give \"tags:<tag>[,<tag>...]\" and schedule the remote activities "
                           "with one of those tags (with_tag).");
    }
    return filter;
}

void put_row(FunctionCallInfo fcinfo, std::span<const std::optional<std::string>> values,
             std::span<const Oid> types) {
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    pg::call([rsinfo, values, types] {
        Datum datums[8];
        bool nulls[8];
        for (std::size_t i = 0; i < values.size(); ++i) {
            nulls[i] = !values[i];
            if (!values[i]) {
                datums[i] = Datum(0);
            } else if (types[i] == INT8OID) {
                datums[i] = Int64GetDatum(std::stoll(*values[i]));
            } else if (types[i] == INT4OID) {
                datums[i] = Int32GetDatum(std::stoi(*values[i]));
            } else {
                datums[i] = CStringGetTextDatum(values[i]->c_str());
            }
        }
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, datums, nulls);
    });
}

} // namespace

// worker_attach(worker_id text) -> (lease_owner, owner_id, max_attempts,
//   unregistered_backoff_ms, cancellation_grace_ms, max_payload_bytes)
DUROXIDE_SQL_FUNCTION(duroxide_worker_attach) {
    const std::string worker_id = sql_api::required_text(fcinfo, 0, "worker_id");
    sql_api::check_identifier(worker_id, "worker_id");
    const std::string owner_id = std::string(kOwnerPrefix) + worker_id;
    if (owner_id.size() >= runtime::kSessionOwnerBytes) {
        throw pg::SqlError(
            ERRCODE_INVALID_PARAMETER_VALUE,
            "worker_id " + core::quoted(worker_id) + " is too long", {},
            "Give at most " +
                std::to_string(runtime::kSessionOwnerBytes - 1 - kOwnerPrefix.size()) + " bytes.");
    }
    const pid_t holder = runtime::session_owner_pid(MyDatabaseId, owner_id.c_str());
    if (holder != 0 && holder != MyProcPid) {
        throw pg::SqlError(ERRCODE_DUPLICATE_OBJECT,
                           "worker id " + core::quoted(worker_id) +
                               " is attached by another live connection (backend " +
                               std::to_string(holder) + ")",
                           {}, "Give every worker connection its own worker id.");
    }
    if (attached) {
        runtime::drop_probe_owners(attached->lease_owner);
        attached.reset();
    }
    int64 lease_owner = 0;
    while (lease_owner <= 0) {
        if (!pg::call(
                [&lease_owner] { return pg_strong_random(&lease_owner, sizeof(lease_owner)); })) {
            throw std::runtime_error("no random source for the worker's lease owner id");
        }
    }
    if (!exit_callback_registered) {
        pg::call([] { before_shmem_exit(forget_attachment, 0); });
        exit_callback_registered = true;
    }
    if (!runtime::add_probe_owner(MyDatabaseId, lease_owner, owner_id.c_str())) {
        throw pg::SqlError(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED,
                           "too many remote worker connections are attached", {},
                           "At most " + std::to_string(runtime::kMaxProbeOwners) +
                               " connections can be attached at once, on all databases.");
    }
    attached = Attachment{.lease_owner = lease_owner, .owner_id = owner_id};
    pg::call([fcinfo] { InitMaterializedSRF(fcinfo, 0); });
    const std::optional<std::string> row[] = {
        std::to_string(lease_owner),
        owner_id,
        std::to_string(runtime::settings.max_attempts),
        std::to_string(runtime::settings.unregistered_backoff_ms),
        std::to_string(runtime::settings.activity_cancellation_grace_period_ms),
        std::to_string(static_cast<int64>(runtime::settings.max_payload_kb) * 1024)};
    const Oid types[] = {INT8OID, TEXTOID, INT4OID, INT4OID, INT4OID, INT8OID};
    put_row(fcinfo, row, types);
    return Datum(0);
}

// worker_detach() -> number of sessions released
DUROXIDE_SQL_FUNCTION(duroxide_worker_detach) {
    if (!attached) {
        PG_RETURN_INT64(0);
    }
    pg::SpiConnection spi;
    store::Store store(spi);
    const uint64_t released = store.release_owner_sessions(session_owner(*attached, 0));
    runtime::drop_probe_owners(attached->lease_owner);
    attached.reset();
    if (released > 0) {
        runtime::wake_at_commit(runtime::kSessionsReleased);
    }
    PG_RETURN_INT64(static_cast<int64>(released));
}

// worker_claim(tag_filter text, max_items int, lock_timeout_ms int, max_sessions int)
//   -> SETOF (id, lock_token, attempt_count, work_item)
DUROXIDE_SQL_FUNCTION(duroxide_worker_claim) {
    const Attachment& me = require_attached();
    const core::TagFilter tags = remote_tag_filter(sql_api::required_text(fcinfo, 0, "tag_filter"));
    const int max_items = int_arg(fcinfo, 1, "max_items", 1, 100);
    const int lock_timeout_ms = int_arg(fcinfo, 2, "lock_timeout_ms", 1000, 86400000);
    const int max_sessions = int_arg(fcinfo, 3, "max_sessions", 0, 1000);
    pg::call([fcinfo] { InitMaterializedSRF(fcinfo, 0); });
    const Oid types[] = {INT8OID, TEXTOID, INT4OID, TEXTOID};
    pg::SpiConnection spi;
    store::Store store(spi);
    const store::SessionOwner owner = session_owner(me, max_sessions);
    int claimed = 0;
    int lookups = 0;
    while (claimed < max_items && lookups < max_items + kMaxLookups) {
        ++lookups;
        store::WorkFetch fetch = store.fetch_work_item(lock_timeout_ms, owner, tags);
        if (fetch.lost_session_race) {
            continue;
        }
        if (!fetch.activity) {
            break;
        }
        const store::FetchedActivity& activity = *fetch.activity;
        const std::string& name = activity.item.name;
        if (!runtime::is_system_activity(name)) {
            // The registration's allow-list, as in-server (an activity the server does not
            // provide is the remote workers' own: it has no allow-list here).
            const store::ActivityAccess access =
                store.activity_access(name, activity.item.instance);
            if (!access.may_call && store::activity_registered(spi, name)) {
                const core::WorkItem denied =
                    runtime::activity_call_denied(activity.item, access.owner_name);
                store.ack_work_item(activity, denied, owner);
                runtime::metrics::add_at_commit(runtime::metrics::activity_outcome(denied));
                runtime::wake_at_commit(runtime::kWakeDispatchers);
                continue;
            }
        }
        const std::optional<std::string> row[] = {
            std::to_string(activity.id), activity.lock_token,
            std::to_string(activity.attempt_count),
            core::codec::encode(core::WorkItem{activity.item})};
        put_row(fcinfo, row, types);
        ++claimed;
    }
    return Datum(0);
}

// worker_renew(id bigint, lock_token text, lock_timeout_ms int, hold_session boolean) -> boolean
DUROXIDE_SQL_FUNCTION(duroxide_worker_renew) {
    const Attachment& me = require_attached();
    const int64 id = id_arg(fcinfo, 0);
    const std::string token = sql_api::required_text(fcinfo, 1, "lock_token");
    const int lock_timeout_ms = int_arg(fcinfo, 2, "lock_timeout_ms", 1000, 86400000);
    const bool hold_session = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
    pg::SpiConnection spi;
    std::optional<store::FetchedActivity> fetched = store::leased_activity(spi, id, token);
    if (!fetched) {
        PG_RETURN_BOOL(false);
    }
    store::Store store(spi);
    bool held = store.renew_work_item_lock(*fetched, lock_timeout_ms);
    if (held && fetched->item.session_id) {
        // A session activity whose session was closed or taken over is cancelled.
        held = store.keep_activity_session(*fetched, session_owner(me, 0), hold_session);
    }
    PG_RETURN_BOOL(held);
}

// worker_holds(id bigint, lock_token text) -> boolean: reads only (inside the activity's
// transaction a renewal could not commit without its statements).
DUROXIDE_SQL_FUNCTION(duroxide_worker_holds) {
    (void)require_attached();
    const int64 id = id_arg(fcinfo, 0);
    const std::string token = sql_api::required_text(fcinfo, 1, "lock_token");
    pg::SpiConnection spi;
    std::optional<store::FetchedActivity> fetched = store::leased_activity(spi, id, token);
    PG_RETURN_BOOL(fetched && store::Store(spi).holds_work_item_lease(*fetched));
}

// worker_renew_sessions() -> SETOF (instance_id, session_id): the sessions still owned.
DUROXIDE_SQL_FUNCTION(duroxide_worker_renew_sessions) {
    const Attachment& me = require_attached();
    pg::call([fcinfo] { InitMaterializedSRF(fcinfo, 0); });
    pg::SpiConnection spi;
    store::Store store(spi);
    const Oid types[] = {TEXTOID, TEXTOID};
    for (const store::SessionKey& key :
         store.renew_sessions(session_owner(me, 0), runtime::settings.session_idle_timeout_ms)) {
        const std::optional<std::string> row[] = {key.instance, key.session};
        put_row(fcinfo, row, types);
    }
    return Datum(0);
}

// worker_complete(id bigint, lock_token text, completion text)
DUROXIDE_SQL_FUNCTION(duroxide_worker_complete) {
    const Attachment& me = require_attached();
    const int64 id = id_arg(fcinfo, 0);
    const std::string token = sql_api::required_text(fcinfo, 1, "lock_token");
    const std::string json = sql_api::required_text(fcinfo, 2, "completion");
    sql_api::check_payload(json, "completion");
    core::WorkItem completion;
    try {
        completion = core::codec::decode_work_item(json);
    } catch (const std::exception& e) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           std::string("completion is not a work item: ") + e.what());
    }
    pg::SpiConnection spi;
    const store::FetchedActivity fetched = leased(spi, id, token);
    const auto& item = fetched.item;
    // Only the completion of the leased activity: nothing else reaches the orchestrator queue.
    bool matches = false;
    if (const auto* done = std::get_if<core::work::ActivityCompleted>(&completion.kind)) {
        matches = done->instance == item.instance && done->execution_id == item.execution_id &&
                  done->id == item.id;
    } else if (const auto* failed = std::get_if<core::work::ActivityFailed>(&completion.kind)) {
        matches = failed->instance == item.instance && failed->execution_id == item.execution_id &&
                  failed->id == item.id;
    }
    if (!matches) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           "completion is not an ActivityCompleted or ActivityFailed of activity " +
                               std::to_string(item.id) + " of execution " +
                               std::to_string(item.execution_id) + " of the leased instance");
    }
    try {
        store::Store(spi).ack_work_item(fetched, completion, session_owner(me, 0));
    } catch (const store::LeaseLost& e) {
        throw pg::SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, e.what(), {},
                           "Roll back: another attempt records the activity.");
    }
    // Counted as the in-server workers count theirs, once the caller's transaction commits.
    runtime::metrics::add_at_commit(runtime::metrics::activity_outcome(completion));
    runtime::wake_at_commit(runtime::kWakeDispatchers);
    PG_RETURN_VOID();
}

// worker_abandon(id bigint, lock_token text, delay_ms bigint, ignore_attempt boolean) -> boolean
DUROXIDE_SQL_FUNCTION(duroxide_worker_abandon) {
    (void)require_attached();
    const int64 id = id_arg(fcinfo, 0);
    const std::string token = sql_api::required_text(fcinfo, 1, "lock_token");
    const int64 delay_ms = PG_ARGISNULL(2) ? 0 : PG_GETARG_INT64(2);
    if (delay_ms < 0 || delay_ms > 86400000) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           "delay_ms must be between 0 and 86400000");
    }
    const bool ignore_attempt = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
    pg::SpiConnection spi;
    std::optional<store::FetchedActivity> fetched = store::leased_activity(spi, id, token);
    const bool released =
        fetched && store::Store(spi).abandon_work_item(*fetched, delay_ms, ignore_attempt);
    if (released && delay_ms == 0) {
        runtime::wake_at_commit(runtime::kWakeActivityWorkers);
    }
    PG_RETURN_BOOL(released);
}
