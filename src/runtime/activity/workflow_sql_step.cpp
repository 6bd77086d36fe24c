#include "runtime/activity/workflow_sql_step.hpp"

#include "core/workflow/json.hpp"
#include "pg/guard.hpp"
#include "pg/spi.hpp"
#include "runtime/process/gucs.hpp"
#include "runtime/activity/activity_envelope.hpp"
#include "store/workflow_definitions.hpp"

#include <vector>

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "parser/parse_param.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace duroxide::runtime {

namespace {

using core::workflow::Json;
using core::workflow::JsonArray;
using core::workflow::JsonObject;

// The parameter types PostgreSQL infers for $1..$n (as PREPARE does); filled by the parser.
struct InferredTypes {
    Oid* types = nullptr;
    int count = 0;
};

void infer_parameters(ParseState* pstate, void* arg) {
    auto* inferred = static_cast<InferredTypes*>(arg);
    setup_parse_variable_parameters(pstate, &inferred->types, &inferred->count);
}

Json column_value(const char* text, Oid type) {
    if (text == nullptr) {
        return Json();
    }
    switch (type) {
    case BOOLOID:
        return Json(text[0] == 't');
    case INT2OID:
    case INT4OID:
    case INT8OID:
        return Json(static_cast<std::int64_t>(std::stoll(text)));
    case FLOAT4OID:
    case FLOAT8OID:
    case NUMERICOID:
    case JSONOID:
    case JSONBOID: {
        // NaN and Infinity are no JSON numbers: they stay text.
        Json parsed = core::workflow::from_text(text);
        return parsed;
    }
    default:
        return Json(std::string(text));
    }
}

// Runs the statement with its parameters (text, converted to the types PostgreSQL infers for
// them) in the current SPI connection; the rows as JSON.
Json execute(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
    InferredTypes inferred;
    pg::call([&] {
        SPIPlanPtr plan = SPI_prepare_params(sql.c_str(), infer_parameters, &inferred, 0);
        if (plan == nullptr) {
            elog(ERROR, "SPI_prepare_params failed: %s", SPI_result_code_string(SPI_result));
        }
        SPI_freeplan(plan);
    });
    if (inferred.count > static_cast<int>(params.size())) {
        throw WorkflowStepError("the statement uses $" + std::to_string(inferred.count) +
                                " but the step gives " + std::to_string(params.size()) +
                                " parameter(s)");
    }
    const int n = static_cast<int>(params.size());
    std::vector<Oid> types(static_cast<std::size_t>(n), TEXTOID);
    std::vector<Datum> values(static_cast<std::size_t>(n), 0);
    std::vector<char> nulls(static_cast<std::size_t>(n), ' ');
    for (int i = 0; i < n; ++i) {
        const auto at = static_cast<std::size_t>(i);
        if (i < inferred.count && inferred.types[i] != InvalidOid &&
            inferred.types[i] != UNKNOWNOID) {
            types[at] = inferred.types[i];
        }
        if (!params[at]) {
            nulls[at] = 'n';
            continue;
        }
        const Oid type = types[at];
        const char* text = params[at]->c_str();
        values[at] = pg::call([type, text] {
            Oid input_function, input_param;
            getTypeInputInfo(type, &input_function, &input_param);
            return OidInputFunctionCall(input_function, const_cast<char*>(text), input_param, -1);
        });
    }
    const uint64 processed = pg::call([&] {
        const int rc = SPI_execute_with_args(sql.c_str(), n, types.data(), values.data(),
                                             nulls.data(), false, 0);
        if (rc < 0) {
            elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
        }
        return SPI_processed;
    });
    JsonArray rows;
    SPITupleTable* table = SPI_tuptable;
    if (table != nullptr) {
        const int columns = table->tupdesc->natts;
        for (uint64 r = 0; r < processed; ++r) {
            JsonObject row;
            for (int c = 1; c <= columns; ++c) {
                HeapTuple tuple = table->vals[r];
                TupleDesc desc = table->tupdesc;
                if (TupleDescAttr(desc, c - 1)->attisdropped) {
                    continue;
                }
                const char* name = pg::call([desc, c] { return SPI_fname(desc, c); });
                const Oid type = pg::call([desc, c] { return SPI_gettypeid(desc, c); });
                char* text = pg::call([tuple, desc, c] { return SPI_getvalue(tuple, desc, c); });
                row[name] = column_value(text, type);
            }
            rows.push_back(Json(std::move(row)));
        }
    }
    JsonObject result;
    result["rows"] = Json(std::move(rows));
    result["row_count"] = Json(static_cast<std::int64_t>(processed));
    return Json(std::move(result));
}

Json parse_input(const core::work::ActivityExecute& item) {
    try {
        return Json::parse(item.input);
    } catch (const core::workflow::JsonError& e) {
        throw WorkflowStepError(std::string("bad step input: ") + e.what());
    }
}

} // namespace

std::string run_workflow_sql_step(store::Store& store, const core::work::ActivityExecute& item) {
    const Json call = parse_input(item);
    const Json* sql = call.find("sql");
    const Json* params = call.find("params");
    if (sql == nullptr || !sql->is_string() || params == nullptr || !params->is_array()) {
        throw WorkflowStepError("bad step input: {\"sql\": text, \"params\": [...]} expected");
    }
    std::vector<std::optional<std::string>> texts;
    for (const auto& p : params->as_array()) {
        texts.push_back(p.is_null() ? std::nullopt
                                    : std::optional<std::string>(core::workflow::to_text(p)));
    }
    // As the role that started the instance: never the worker's superuser, nor the definer.
    const std::optional<Oid> owner = store.instance_owner(item.instance);
    if (!owner) {
        throw WorkflowStepError("the instance records no role that started it: its SQL steps have "
                                "no role to run as");
    }
    const Oid role = *owner;
    if (pg::call([role] { return GetUserNameFromId(role, true); }) == nullptr) {
        throw WorkflowStepError("the role that started the instance (oid " + std::to_string(role) +
                                ") no longer exists: its SQL steps have no role to run as");
    }
    if (pg::call([role] { return superuser_arg(role); })) {
        throw WorkflowStepError("SQL steps do not run as a superuser: start the workflow as a "
                                "role with only the privileges its statements need");
    }
    std::string output;
    try {
        // The activity envelope (runtime/activity/activity_envelope.hpp): restricted, settings
        // rolled back, its own subtransaction, duroxide.activity_statement_timeout.
        output = run_activity_code(activity_envelope(role, std::nullopt, "workflow SQL step"), [&] {
            pg::SpiConnection spi; // nested in the worker's: the same transaction
            return execute(sql->as_string(), texts).dump();
        });
    } catch (const pg::SqlError& e) {
        throw WorkflowStepError(std::string("ERROR ") + e.sqlstate_text() + ": " + e.what());
    }
    const std::size_t limit = static_cast<std::size_t>(settings.max_payload_kb) * 1024;
    if (output.size() > limit) {
        throw WorkflowStepError("the step's rows are larger than duroxide.max_payload_size (" +
                                std::to_string(output.size()) + " bytes)");
    }
    return output;
}

std::string load_workflow_definition(store::Store& store, const core::work::ActivityExecute& item) {
    const Json request = parse_input(item);
    const Json* name = request.find("workflow");
    const Json* version = request.find("version");
    if (name == nullptr || !name->is_string()) {
        throw WorkflowStepError("bad input: {\"workflow\": text, \"version\": text or null}");
    }
    const std::optional<Oid> owner = store.instance_owner(item.instance);
    if (!owner) {
        throw WorkflowStepError("the instance records no role that started it");
    }
    const Oid role = *owner;
    if (pg::call([role] { return GetUserNameFromId(role, true); }) == nullptr) {
        throw WorkflowStepError("the role that started the instance (oid " + std::to_string(role) +
                                ") no longer exists");
    }
    pg::SpiConnection spi;
    const std::optional<std::string> wanted = version && version->is_string()
                                                  ? std::optional<std::string>(version->as_string())
                                                  : std::nullopt;
    auto found =
        store::load_workflow_for_instance(spi, name->as_string(), wanted, role, item.instance);
    if (!found) {
        std::string what = name->as_string().substr(0, 128);
        throw WorkflowStepError("no workflow \"" + what + "\"" +
                                (wanted ? " version " + wanted->substr(0, 32) : std::string()) +
                                " that the role that started this instance may start");
    }
    if (found->needs_version) {
        throw WorkflowStepError("sub_workflow \"" + name->as_string().substr(0, 128) +
                                "\" belongs to another role than the one that started this "
                                "instance: the node must name its \"version\"");
    }
    JsonObject out;
    out["version"] = Json(found->version);
    out["definition"] = Json::parse(found->definition);
    return Json(std::move(out)).dump();
}

} // namespace duroxide::runtime
