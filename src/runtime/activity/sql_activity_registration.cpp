#include "runtime/activity/sql_activity_registration.hpp"

#include "pg/guard.hpp"

#include <stdexcept>

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace duroxide::runtime {

namespace {

// Appends "name=<length>:<value>;" (or "name=null;"): unambiguous whatever the values hold.
void append_field(StringInfo out, const char* name, const char* value) {
    if (value == nullptr) {
        appendStringInfo(out, "%s=null;", name);
    } else {
        appendStringInfo(out, "%s=%zu:%s;", name, strlen(value), value);
    }
}

const char* text_attribute(HeapTuple tuple, AttrNumber attribute) {
    bool is_null = false;
    const Datum value = SysCacheGetAttr(PROCOID, tuple, attribute, &is_null);
    return is_null ? nullptr : TextDatumGetCString(value);
}

// The digest in hex (palloc'd), or nullptr when the function does not exist.
char* fingerprint_or_null(Oid fn) {
    HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
    if (!HeapTupleIsValid(tuple)) {
        return nullptr;
    }
    const auto* proc = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tuple));
    StringInfoData canonical;
    initStringInfo(&canonical);
    // Roles and languages by name: the digest survives a dump and restore into another cluster
    // (an SQL-standard body holds oids, so a function written with BEGIN ATOMIC needs
    // registering again after that).
    append_field(&canonical, "owner", GetUserNameFromId(proc->proowner, true));
    append_field(&canonical, "lang", get_language_name(proc->prolang, true));
    appendStringInfo(&canonical, "secdef=%d;volatile=%c;strict=%d;leakproof=%d;",
                     proc->prosecdef ? 1 : 0, proc->provolatile, proc->proisstrict ? 1 : 0,
                     proc->proleakproof ? 1 : 0);
    bool is_null = false;
    const Datum config = SysCacheGetAttr(PROCOID, tuple, Anum_pg_proc_proconfig, &is_null);
    append_field(&canonical, "config",
                 is_null ? nullptr : OidOutputFunctionCall(F_ARRAY_OUT, config));
    append_field(&canonical, "src", text_attribute(tuple, Anum_pg_proc_prosrc));
    append_field(&canonical, "bin", text_attribute(tuple, Anum_pg_proc_probin));
    append_field(&canonical, "sqlbody", text_attribute(tuple, Anum_pg_proc_prosqlbody));
    ReleaseSysCache(tuple);

    uint8 digest[PG_SHA256_DIGEST_LENGTH];
    pg_cryptohash_ctx* context = pg_cryptohash_create(PG_SHA256);
    if (pg_cryptohash_init(context) < 0 ||
        pg_cryptohash_update(context, reinterpret_cast<const uint8*>(canonical.data),
                             canonical.len) < 0 ||
        pg_cryptohash_final(context, digest, sizeof(digest)) < 0) {
        pg_cryptohash_free(context);
        elog(ERROR, "could not compute the SHA-256 digest of a function definition");
    }
    pg_cryptohash_free(context);
    pfree(canonical.data);
    char* hex = static_cast<char*>(palloc(2 * sizeof(digest) + 1));
    for (size_t i = 0; i < sizeof(digest); ++i) {
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
    return hex;
}

} // namespace

std::string function_fingerprint(Oid fn) {
    char* hex = pg::call([fn] { return fingerprint_or_null(fn); });
    if (hex == nullptr) {
        throw std::runtime_error("function with oid " + std::to_string(fn) + " does not exist");
    }
    std::string value(hex);
    pg::call([hex] { pfree(hex); });
    return value;
}

std::optional<std::string> superuser_run_as_refusal(Oid run_as, bool registered_by_superuser,
                                                    std::string_view what) {
    if (registered_by_superuser || !pg::call([run_as] { return superuser_arg(run_as); })) {
        return std::nullopt;
    }
    return "refusing to run " + std::string(what) + " as superuser role (oid " +
           std::to_string(run_as) +
           "): no superuser registered it; a superuser must register it again";
}

void verify_sql_activity_registration(const SqlActivity& activity, std::string_view name) {
    const std::string label = "SQL activity \"" + std::string(name.substr(0, 128)) + "\"";
    if (auto refusal =
            superuser_run_as_refusal(activity.run_as, activity.registered_by_superuser, label)) {
        throw std::runtime_error(*refusal);
    }
    const Oid owner = pg::call([&activity] {
        HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(activity.function));
        if (!HeapTupleIsValid(tuple)) {
            return InvalidOid;
        }
        const Oid proowner = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tuple))->proowner;
        ReleaseSysCache(tuple);
        return proowner;
    });
    if (owner == InvalidOid) {
        throw std::runtime_error("the function of " + label + " (oid " +
                                 std::to_string(activity.function) +
                                 ") no longer exists; register the activity again");
    }
    if (owner != activity.run_as && !activity.registered_by_superuser) {
        throw std::runtime_error("the function of " + label + " is now owned by role oid " +
                                 std::to_string(owner) + ", not by the role it runs as (oid " +
                                 std::to_string(activity.run_as) +
                                 "); re-register the activity as the function's owner");
    }
    if (function_fingerprint(activity.function) != activity.definition_hash) {
        throw std::runtime_error("the function of " + label +
                                 " changed since it was registered (definition, owner or "
                                 "settings); re-register the activity to run the new definition");
    }
}

} // namespace duroxide::runtime
