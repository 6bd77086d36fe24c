// Store probes: the store's operations (src/store) as SQL functions in schema
// duroxide_internal, for the provider validation suite (test/regress/sql/store_*.sql) and the
// isolation specs (test/isolation). Test code: part of the test-only extension duroxide_test
// (test/probes), never of duroxide.so. Internal and unsupported: not part of the SQL API,
// duroxide_admin only, and they run with the caller's rights on duroxide's tables (in practice a
// superuser).
//
// Each one runs in the caller's transaction, so a test holds the locks a fetch takes across
// statements and races them from other sessions. They only translate arguments and results
// (work items, events and error details as duroxide JSON, decoded with the core codec); what
// the operation does is the store's.
//
// Leases name their owner (locked_by), and a lease whose owner is not a live duroxide worker
// is free at once. A probe therefore fetches as a "probe owner" that this backend registered
// (probe_attach): live until the backend exits or drops it (probe_detach, a simulated crash).
#include "core/codec/json_codec.hpp"
#include "pg/guard.hpp"
#include "pg/spi.hpp"
#include "runtime/process/shared_state.hpp"
#include "sql_api/arguments.hpp"
#include "store/store.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <string>
#include <vector>

extern "C" {
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

namespace {

using namespace duroxide;
namespace codec = core::codec;

constexpr int kLeaseLost = ERRCODE_LOCK_NOT_AVAILABLE; // 55P03: the lease is not ours

std::string json_arg(FunctionCallInfo fcinfo, int n, std::string_view what) {
    if (PG_ARGISNULL(n)) {
        throw pg::SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string(what) + " must not be null");
    }
    char* text = pg::call([fcinfo, n] {
        return DatumGetCString(DirectFunctionCall1(jsonb_out, PG_GETARG_DATUM(n)));
    });
    std::string json(text);
    pfree(text);
    return json;
}

Datum jsonb_datum(const std::string& json) {
    return pg::call(
        [&json] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(json.c_str())); });
}

// A fetch's KV snapshot as a JSON object of key: value.
std::string kv_snapshot_json(const core::KvSnapshot& snapshot) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    for (const auto& [key, entry] : snapshot) {
        writer.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
        writer.String(entry.value.c_str(), static_cast<rapidjson::SizeType>(entry.value.size()));
    }
    writer.EndObject();
    return buffer.GetString();
}

int64 int64_arg(FunctionCallInfo fcinfo, int n, std::string_view what) {
    if (PG_ARGISNULL(n)) {
        throw pg::SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string(what) + " must not be null");
    }
    return PG_GETARG_INT64(n);
}

int int_arg(FunctionCallInfo fcinfo, int n, std::string_view what) {
    if (PG_ARGISNULL(n)) {
        throw pg::SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string(what) + " must not be null");
    }
    return PG_GETARG_INT32(n);
}

bool bool_arg(FunctionCallInfo fcinfo, int n) {
    return !PG_ARGISNULL(n) && PG_GETARG_BOOL(n);
}

// Bad JSON or a shape the codec refuses is the caller's mistake, not an internal error.
template <typename Decode>
auto decoded(std::string_view what, Decode&& decode) {
    try {
        return decode();
    } catch (const codec::CodecError& e) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, std::string(what) + ": " + e.what());
    }
}

// Runs a store operation; a lost lease becomes SQLSTATE 55P03.
template <typename Body>
auto with_store(Body&& body) {
    pg::SpiConnection spi;
    store::Store store(spi);
    try {
        return body(store);
    } catch (const store::LeaseLost& e) {
        throw pg::SqlError(kLeaseLost, e.what());
    }
}

// A batch as the ack and abandon need it: instance, lock token and owner role.
store::OrchestrationBatch batch_arg(FunctionCallInfo fcinfo, std::optional<Oid> owner) {
    store::OrchestrationBatch batch;
    batch.instance = sql_api::required_text(fcinfo, 0, "instance");
    batch.lock_token = sql_api::required_text(fcinfo, 1, "lock_token");
    batch.owner_role = owner;
    return batch;
}

// A fetched activity as the ack, renewal and abandon need it: row id, lock token, item.
store::FetchedActivity activity_arg(FunctionCallInfo fcinfo, std::optional<std::string> item) {
    store::FetchedActivity activity;
    activity.id = int64_arg(fcinfo, 0, "id");
    activity.lock_token = sql_api::required_text(fcinfo, 1, "lock_token");
    if (item) {
        core::WorkItem decoded_item =
            decoded("work_item", [&] { return codec::decode_work_item(*item); });
        auto* execute = std::get_if<core::work::ActivityExecute>(&decoded_item.kind);
        if (execute == nullptr) {
            throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                               "work_item must be an ActivityExecute");
        }
        activity.item = *execute;
    }
    return activity;
}

store::SessionOwner session_owner_args(FunctionCallInfo fcinfo, int lease_owner_arg,
                                       int owner_id_arg, int lock_timeout_arg,
                                       int max_sessions_arg) {
    store::SessionOwner owner;
    owner.lease_owner = PG_ARGISNULL(lease_owner_arg) ? 0 : PG_GETARG_INT64(lease_owner_arg);
    const std::optional<std::string> owner_id = sql_api::optional_text(fcinfo, owner_id_arg);
    // Without a session owner id the worker takes no session activities (duroxide's
    // fetch without a session configuration).
    owner.owner_id = owner_id.value_or("");
    owner.lock_timeout_ms =
        PG_ARGISNULL(lock_timeout_arg) ? 30000 : PG_GETARG_INT32(lock_timeout_arg);
    owner.max_sessions = 10;
    if (!owner_id) {
        owner.max_sessions = 0;
    } else if (max_sessions_arg >= 0 && !PG_ARGISNULL(max_sessions_arg)) {
        owner.max_sessions = PG_GETARG_INT32(max_sessions_arg);
    }
    return owner;
}

core::ExecutionStatus status_arg(const std::string& status) {
    if (status == "Running") {
        return core::ExecutionStatus::Running;
    }
    if (status == "Completed") {
        return core::ExecutionStatus::Completed;
    }
    if (status == "Failed") {
        return core::ExecutionStatus::Failed;
    }
    if (status == "ContinuedAsNew") {
        return core::ExecutionStatus::ContinuedAsNew;
    }
    throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                       "status must be Running, Completed, Failed or ContinuedAsNew, not \"" +
                           status + "\"");
}

// [{"instance": ..., "execution_id": n, "activity_id": n}, ...]
std::vector<core::CancelledActivity> cancelled_arg(const std::string& json) {
    rapidjson::Document document;
    document.Parse(json.c_str());
    auto refuse = [] {
        return pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                            "cancelled_activities must be an array of {\"instance\", "
                            "\"execution_id\", \"activity_id\"} objects");
    };
    if (document.HasParseError() || !document.IsArray()) {
        throw refuse();
    }
    std::vector<core::CancelledActivity> cancelled;
    for (const auto& entry : document.GetArray()) {
        if (!entry.IsObject() || !entry.HasMember("instance") || !entry["instance"].IsString() ||
            !entry.HasMember("execution_id") || !entry["execution_id"].IsUint64() ||
            !entry.HasMember("activity_id") || !entry["activity_id"].IsUint64()) {
            throw refuse();
        }
        cancelled.push_back({entry["instance"].GetString(), entry["execution_id"].GetUint64(),
                             entry["activity_id"].GetUint64()});
    }
    return cancelled;
}

bool exit_callback_registered = false;

void forget_probe_owners(int, Datum) {
    runtime::drop_probe_owners(0);
}

Datum text_datum(const std::string& s) {
    return pg::call([&s] {
        return PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size())));
    });
}

} // namespace

// probe_attach(lease_owner bigint, session_owner text): a live lease owner for this backend.
DUROXIDE_SQL_FUNCTION(duroxide_probe_attach) {
    const int64 lease_owner = int64_arg(fcinfo, 0, "lease_owner");
    const std::string session_owner = sql_api::optional_text(fcinfo, 1).value_or("");
    if (lease_owner >= 0) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           "a probe's lease owner id must be negative (workers' are positive)");
    }
    if (session_owner.size() >= sizeof(runtime::ProbeOwner{}.session_owner)) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "session_owner is too long");
    }
    if (!exit_callback_registered) {
        pg::call([] { before_shmem_exit(forget_probe_owners, 0); });
        exit_callback_registered = true;
    }
    if (!runtime::add_probe_owner(MyDatabaseId, lease_owner, session_owner.c_str())) {
        throw pg::SqlError(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED,
                           "all probe owner entries are taken");
    }
    PG_RETURN_VOID();
}

// probe_detach(lease_owner bigint DEFAULT NULL): the owner is gone (all of this backend's
// with NULL); its leases are free at once. Returns how many were dropped.
DUROXIDE_SQL_FUNCTION(duroxide_probe_detach) {
    PG_RETURN_INT32(runtime::drop_probe_owners(PG_ARGISNULL(0) ? 0 : PG_GETARG_INT64(0)));
}

// store_enqueue_orchestrator(work_item jsonb, started_by oid)
DUROXIDE_SQL_FUNCTION(duroxide_store_enqueue_orchestrator) {
    const std::string json = json_arg(fcinfo, 0, "work_item");
    const core::WorkItem item = decoded("work_item", [&] { return codec::decode_work_item(json); });
    std::optional<Oid> started_by;
    if (!PG_ARGISNULL(1)) {
        started_by = PG_GETARG_OID(1);
    }
    with_store([&](store::Store& store) { store.enqueue_orchestrator(item, started_by); });
    PG_RETURN_VOID();
}

// store_fetch_orchestration_items(lease_owner bigint, lock_timeout_ms int, max_items int)
//   RETURNS TABLE (instance, lock_token, attempt_count, instance_exists, execution_id,
//                  execution_status, owner_role, messages jsonb, history jsonb,
//                  history_error text, kv_snapshot jsonb)
DUROXIDE_SQL_FUNCTION(duroxide_store_fetch_orchestration_items) {
    const int64 owner = int64_arg(fcinfo, 0, "lease_owner");
    const int lock_timeout_ms = int_arg(fcinfo, 1, "lock_timeout_ms");
    const int max_items = int_arg(fcinfo, 2, "max_items");
    if (max_items < 1) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "max_items must be positive");
    }
    const auto batches = with_store([&](store::Store& store) {
        // No resident executions: every batch comes with its history.
        return store.fetch_orchestration_items(
            owner, lock_timeout_ms, max_items,
            [](const std::string&, uint64_t) { return std::optional<uint64_t>(); });
    });
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    pg::call([fcinfo] { InitMaterializedSRF(fcinfo, 0); });
    for (const auto& batch : batches) {
        Datum values[11];
        bool nulls[11] = {};
        values[0] = text_datum(batch.instance);
        values[1] = text_datum(batch.lock_token);
        values[2] = Int32GetDatum(static_cast<int32>(batch.attempt_count));
        values[3] = BoolGetDatum(batch.instance_exists);
        values[4] = Int64GetDatum(static_cast<int64>(batch.execution_id));
        nulls[5] = !batch.execution_status;
        values[5] = batch.execution_status
                        ? text_datum(store::execution_status_name(*batch.execution_status))
                        : Datum(0);
        nulls[6] = !batch.owner_role;
        values[6] = batch.owner_role ? ObjectIdGetDatum(*batch.owner_role) : Datum(0);
        values[7] = jsonb_datum(codec::encode_work_items(batch.messages));
        values[8] = jsonb_datum(codec::encode_history(batch.history));
        nulls[9] = !batch.history_error;
        values[9] = batch.history_error ? text_datum(*batch.history_error) : Datum(0);
        values[10] = jsonb_datum(kv_snapshot_json(batch.kv_snapshot));
        pg::call([rsinfo, &values, &nulls] {
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        });
    }
    return Datum(0);
}

// store_lock_for_inline_turn(instance text, lease_owner bigint, lock_timeout_ms int,
//   max_history bigint) RETURNS TABLE (instance, lock_token, attempt_count, messages jsonb):
//   an activity worker's inline lock (in the caller's transaction); no row when it is not taken.
DUROXIDE_SQL_FUNCTION(duroxide_store_lock_for_inline_turn) {
    const std::string instance = sql_api::required_text(fcinfo, 0, "instance");
    const int64 owner = int64_arg(fcinfo, 1, "lease_owner");
    const int lock_timeout_ms = int_arg(fcinfo, 2, "lock_timeout_ms");
    const int64 max_history = int64_arg(fcinfo, 3, "max_history");
    const auto batch = with_store([&](store::Store& store) {
        return store.lock_for_inline_turn(
            instance, owner, lock_timeout_ms,
            static_cast<uint64_t>(std::max<int64>(max_history, 0)),
            [](const std::string&, uint64_t) { return std::optional<uint64_t>(); });
    });
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    pg::call([fcinfo] { InitMaterializedSRF(fcinfo, 0); });
    if (batch) {
        Datum values[4];
        bool nulls[4] = {};
        values[0] = text_datum(batch->instance);
        values[1] = text_datum(batch->lock_token);
        values[2] = Int32GetDatum(static_cast<int32>(batch->attempt_count));
        values[3] = jsonb_datum(codec::encode_work_items(batch->messages));
        pg::call([rsinfo, &values, &nulls] {
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        });
    }
    return Datum(0);
}

// store_ack_orchestration_item(instance, lock_token, execution_id, history_delta,
//   worker_items, orchestrator_items, status, output, cancelled_activities,
//   orchestration_name, orchestration_version, parent_instance, owner_role, error)
DUROXIDE_SQL_FUNCTION(duroxide_store_ack_orchestration_item) {
    std::optional<Oid> owner;
    if (!PG_ARGISNULL(12)) {
        owner = PG_GETARG_OID(12);
    }
    const store::OrchestrationBatch batch = batch_arg(fcinfo, owner);
    const int64 execution_id = int64_arg(fcinfo, 2, "execution_id");
    core::TurnResult turn;
    const std::string delta = json_arg(fcinfo, 3, "history_delta");
    const std::string worker_items = json_arg(fcinfo, 4, "worker_items");
    const std::string orchestrator_items = json_arg(fcinfo, 5, "orchestrator_items");
    turn.history_delta = decoded("history_delta", [&] { return codec::decode_history(delta); });
    turn.worker_items =
        decoded("worker_items", [&] { return codec::decode_work_items(worker_items); });
    for (const auto& item : turn.worker_items) {
        if (!std::holds_alternative<core::work::ActivityExecute>(item.kind)) {
            throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                               "worker_items must all be ActivityExecute");
        }
    }
    turn.orchestrator_items =
        decoded("orchestrator_items", [&] { return codec::decode_work_items(orchestrator_items); });
    turn.status = status_arg(sql_api::required_text(fcinfo, 6, "status"));
    turn.output = sql_api::optional_text(fcinfo, 7).value_or("");
    turn.cancelled_activities = cancelled_arg(json_arg(fcinfo, 8, "cancelled_activities"));
    turn.orchestration_name = sql_api::optional_text(fcinfo, 9);
    turn.orchestration_version = sql_api::optional_text(fcinfo, 10);
    turn.parent_instance = sql_api::optional_text(fcinfo, 11);
    if (!PG_ARGISNULL(13)) {
        const std::string error = json_arg(fcinfo, 13, "error");
        turn.error = decoded("error", [&] { return codec::decode_error_details(error); });
    }
    with_store([&](store::Store& store) {
        store.ack_orchestration_item(batch, static_cast<uint64_t>(execution_id), turn);
    });
    PG_RETURN_VOID();
}

// store_abandon_orchestration_item(instance, lock_token, delay_ms bigint, ignore_attempt bool)
DUROXIDE_SQL_FUNCTION(duroxide_store_abandon_orchestration_item) {
    const store::OrchestrationBatch batch = batch_arg(fcinfo, std::nullopt);
    const int64 delay_ms = int64_arg(fcinfo, 2, "delay_ms");
    const bool ignore_attempt = bool_arg(fcinfo, 3);
    with_store([&](store::Store& store) {
        store.abandon_orchestration_item(batch, delay_ms, ignore_attempt);
    });
    PG_RETURN_VOID();
}

// store_renew_orchestration_item_lock(instance, lock_token, lock_timeout_ms int) -> boolean
DUROXIDE_SQL_FUNCTION(duroxide_store_renew_orchestration_item_lock) {
    const store::OrchestrationBatch batch = batch_arg(fcinfo, std::nullopt);
    const int lock_timeout_ms = int_arg(fcinfo, 2, "lock_timeout_ms");
    PG_RETURN_BOOL(with_store([&](store::Store& store) {
        return store.renew_orchestration_item_lock(batch, lock_timeout_ms);
    }));
}

// store_fetch_work_item(lease_owner, lock_timeout_ms, session_owner, session_lock_timeout_ms,
//   max_sessions, tag_filter text) RETURNS TABLE (id, lock_token, attempt_count, work_item jsonb,
//   session_continued, lost_session_race): no row when there is nothing to run; one row with
//   only lost_session_race set when the item's session went to another owner meanwhile.
DUROXIDE_SQL_FUNCTION(duroxide_store_fetch_work_item) {
    int64_arg(fcinfo, 0, "lease_owner");
    const int lock_timeout_ms = int_arg(fcinfo, 1, "lock_timeout_ms");
    const store::SessionOwner sessions = session_owner_args(fcinfo, 0, 2, 3, 4);
    core::TagFilter tags;
    try {
        tags = core::parse_tag_filter(sql_api::required_text(fcinfo, 5, "tag_filter"));
    } catch (const core::TagFilterError& e) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           std::string("invalid tag_filter: ") + e.what());
    }
    const store::WorkFetch fetch = with_store([&](store::Store& store) {
        return store.fetch_work_item(lock_timeout_ms, sessions, tags);
    });
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    pg::call([fcinfo] { InitMaterializedSRF(fcinfo, 0); });
    if (!fetch.activity && !fetch.lost_session_race) {
        return Datum(0);
    }
    Datum values[6] = {};
    bool nulls[6] = {true, true, true, true, true, false};
    values[5] = BoolGetDatum(fetch.lost_session_race);
    if (const auto& activity = fetch.activity) {
        values[0] = Int64GetDatum(activity->id);
        values[1] = text_datum(activity->lock_token);
        values[2] = Int32GetDatum(static_cast<int32>(activity->attempt_count));
        values[3] = jsonb_datum(codec::encode(core::WorkItem{activity->item}));
        values[4] = BoolGetDatum(activity->session_continued);
        for (int i = 0; i < 5; ++i) {
            nulls[i] = false;
        }
    }
    pg::call([rsinfo, &values, &nulls] {
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    });
    return Datum(0);
}

// store_fetch_work_items(lease_owner, lock_timeout_ms, session_owner, session_lock_timeout_ms,
//   max_sessions, tag_filter text, max_items int) RETURNS TABLE (id, lock_token, attempt_count,
//   work_item jsonb, session_continued, owner_role text): the batch fetch, one row per leased
//   activity in queue order (owner_role: the instance's owner as the fetch read it).
DUROXIDE_SQL_FUNCTION(duroxide_store_fetch_work_items) {
    int64_arg(fcinfo, 0, "lease_owner");
    const int lock_timeout_ms = int_arg(fcinfo, 1, "lock_timeout_ms");
    const store::SessionOwner sessions = session_owner_args(fcinfo, 0, 2, 3, 4);
    core::TagFilter tags;
    try {
        tags = core::parse_tag_filter(sql_api::required_text(fcinfo, 5, "tag_filter"));
    } catch (const core::TagFilterError& e) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           std::string("invalid tag_filter: ") + e.what());
    }
    const int max_items = int_arg(fcinfo, 6, "max_items");
    const store::WorkBatchFetch fetch = with_store([&](store::Store& store) {
        return store.fetch_work_items(lock_timeout_ms, sessions, tags, max_items);
    });
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    pg::call([fcinfo] { InitMaterializedSRF(fcinfo, 0); });
    for (const store::FetchedActivity& activity : fetch.activities) {
        Datum values[6] = {};
        bool nulls[6] = {};
        values[0] = Int64GetDatum(activity.id);
        values[1] = text_datum(activity.lock_token);
        values[2] = Int32GetDatum(static_cast<int32>(activity.attempt_count));
        values[3] = jsonb_datum(codec::encode(core::WorkItem{activity.item}));
        values[4] = BoolGetDatum(activity.session_continued);
        const std::optional<std::string> owner =
            activity.owner ? activity.owner->role_name : std::nullopt;
        nulls[5] = !owner;
        if (owner) {
            values[5] = text_datum(*owner);
        }
        pg::call([rsinfo, &values, &nulls] {
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        });
    }
    return Datum(0);
}

// store_ack_work_item(id, lock_token, work_item jsonb, completion jsonb, lease_owner,
//   session_owner, session_lock_timeout_ms)
DUROXIDE_SQL_FUNCTION(duroxide_store_ack_work_item) {
    const store::FetchedActivity activity = activity_arg(fcinfo, json_arg(fcinfo, 2, "work_item"));
    const std::string completion_json = json_arg(fcinfo, 3, "completion");
    const core::WorkItem completion =
        decoded("completion", [&] { return codec::decode_work_item(completion_json); });
    if (!std::holds_alternative<core::work::ActivityCompleted>(completion.kind) &&
        !std::holds_alternative<core::work::ActivityFailed>(completion.kind)) {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           "completion must be an ActivityCompleted or ActivityFailed");
    }
    const store::SessionOwner sessions = session_owner_args(fcinfo, 4, 5, 6, -1);
    with_store([&](store::Store& store) { store.ack_work_item(activity, completion, sessions); });
    PG_RETURN_VOID();
}

// store_renew_work_item_lock(id, lock_token, lock_timeout_ms) -> boolean
DUROXIDE_SQL_FUNCTION(duroxide_store_renew_work_item_lock) {
    const store::FetchedActivity activity = activity_arg(fcinfo, std::nullopt);
    const int lock_timeout_ms = int_arg(fcinfo, 2, "lock_timeout_ms");
    PG_RETURN_BOOL(with_store([&](store::Store& store) {
        return store.renew_work_item_lock(activity, lock_timeout_ms);
    }));
}

// store_abandon_work_item(id, lock_token, delay_ms, ignore_attempt) -> boolean
DUROXIDE_SQL_FUNCTION(duroxide_store_abandon_work_item) {
    const store::FetchedActivity activity = activity_arg(fcinfo, std::nullopt);
    const int64 delay_ms = int64_arg(fcinfo, 2, "delay_ms");
    const bool ignore_attempt = bool_arg(fcinfo, 3);
    PG_RETURN_BOOL(with_store([&](store::Store& store) {
        return store.abandon_work_item(activity, delay_ms, ignore_attempt);
    }));
}

// The leases named by (ids bigint[], tokens text[]) as the worker holds them.
std::vector<store::FetchedActivity> leases_arg(FunctionCallInfo fcinfo) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) {
        throw pg::SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "ids and tokens must not be NULL");
    }
    std::vector<store::FetchedActivity> leases;
    pg::call([&] {
        Datum* ids = nullptr;
        Datum* tokens = nullptr;
        bool* id_nulls = nullptr;
        bool* token_nulls = nullptr;
        int n_ids = 0;
        int n_tokens = 0;
        deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), INT8OID, 8, true, TYPALIGN_DOUBLE, &ids,
                          &id_nulls, &n_ids);
        deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, -1, false, TYPALIGN_INT, &tokens,
                          &token_nulls, &n_tokens);
        for (int i = 0; i < n_ids && i < n_tokens; ++i) {
            store::FetchedActivity lease;
            lease.id = DatumGetInt64(ids[i]);
            char* token = TextDatumGetCString(tokens[i]);
            lease.lock_token = token;
            pfree(token);
            leases.push_back(std::move(lease));
        }
    });
    return leases;
}

// store_delete_work_items(ids bigint[], tokens text[]): the acks' deletes in one statement
// (throws when any lease is gone).
DUROXIDE_SQL_FUNCTION(duroxide_store_delete_work_items) {
    const std::vector<store::FetchedActivity> leases = leases_arg(fcinfo);
    try {
        with_store([&](store::Store& store) { store.delete_work_items(leases); });
    } catch (const store::LeaseLost& e) {
        throw pg::SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, e.what());
    }
    PG_RETURN_VOID();
}

// store_release_work_items(ids bigint[], tokens text[]) -> bigint: fetched activities given
// back unstarted; how many were still held.
DUROXIDE_SQL_FUNCTION(duroxide_store_release_work_items) {
    const std::vector<store::FetchedActivity> leases = leases_arg(fcinfo);
    PG_RETURN_INT64(static_cast<int64>(
        with_store([&](store::Store& store) { return store.release_work_items(leases); })));
}

// store_renew_sessions(lease_owner, session_owner, lock_timeout_ms, idle_timeout_ms)
//   RETURNS SETOF text: the sessions the owner still holds, as "instance/session".
DUROXIDE_SQL_FUNCTION(duroxide_store_renew_sessions) {
    int64_arg(fcinfo, 0, "lease_owner");
    sql_api::required_text(fcinfo, 1, "session_owner");
    const store::SessionOwner sessions = session_owner_args(fcinfo, 0, 1, 2, -1);
    const int idle_timeout_ms = int_arg(fcinfo, 3, "idle_timeout_ms");
    const std::vector<store::SessionKey> keys = with_store(
        [&](store::Store& store) { return store.renew_sessions(sessions, idle_timeout_ms); });
    std::vector<std::string> owned; // "instance/session"
    for (const auto& key : keys) {
        owned.push_back(key.instance + "/" + key.session);
    }
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    pg::call([fcinfo] { InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC); });
    for (const auto& session : owned) {
        Datum value = text_datum(session);
        bool null = false;
        pg::call([rsinfo, &value, &null] {
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &null);
        });
    }
    return Datum(0);
}

// store_cleanup_orphaned_sessions() -> bigint
DUROXIDE_SQL_FUNCTION(duroxide_store_cleanup_orphaned_sessions) {
    PG_RETURN_INT64(static_cast<int64>(
        with_store([](store::Store& store) { return store.cleanup_orphaned_sessions(); })));
}

// store_ms_until_next_visible(queue text) -> bigint ('orchestrator' or 'worker')
DUROXIDE_SQL_FUNCTION(duroxide_store_ms_until_next_visible) {
    const std::string queue = sql_api::required_text(fcinfo, 0, "queue");
    if (queue != "orchestrator" && queue != "worker") {
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "queue must be orchestrator or worker");
    }
    const std::optional<int64_t> ms = with_store([&](store::Store& store) {
        return store.ms_until_next_visible(queue == "orchestrator" ? store::Queue::Orchestrator
                                                                   : store::Queue::Worker);
    });
    if (!ms) {
        PG_RETURN_NULL();
    }
    PG_RETURN_INT64(*ms);
}
