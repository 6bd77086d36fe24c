#include "pg/spi.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "utils/guc.h"
#include "utils/lsyscache.h"
}

#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

namespace duroxide::pg {

namespace {

// Runs `body` with sequential and bitmap scans (and JIT) disabled for the planner. Every
// duroxide statement is an index lookup on tables that grow and shrink by thousands of rows
// between two autovacuum analyses; a plan made while a queue was nearly empty would otherwise
// scan it whole once it is large. Bitmap scans for the same reason: made on an empty worker
// queue, the activity fetch's plan read every visible row and sorted them to take the first
// (O(queue) per fetch) instead of walking its (visible_at, id) index in order. The settings
// are restored when `body` returns, and by transaction or subtransaction abort when it raises.
template <typename Body>
auto with_index_plans(Body&& body) {
    const int nest_level = NewGUCNestLevel();
    (void)set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                            true, 0, false);
    (void)set_config_option("enable_bitmapscan", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                            true, 0, false);
    // The disabled scans' cost would otherwise make every tiny statement look worth compiling.
    (void)set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                            false);
    auto result = body();
    AtEOXact_GUC(true, nest_level);
    return result;
}

// Statements are prepared once per process and kept (SPI_keepplan): the workers run the same
// few statements thousands of times, and parsing and planning them each time was a large part
// of a turn's CPU. PostgreSQL's plan cache re-plans a kept plan when a table it uses changes.
SPIPlanPtr prepared_plan(const std::string& query, std::span<const Oid> param_types) {
    static std::unordered_map<std::string, SPIPlanPtr> plans;
    std::string key = query;
    for (Oid type : param_types) {
        key += "\x1f" + std::to_string(type);
    }
    auto found = plans.find(key);
    if (found != plans.end()) {
        return found->second;
    }
    std::vector<Oid> types(param_types.begin(), param_types.end());
    const int nargs = static_cast<int>(types.size());
    SPIPlanPtr plan = call([&query, nargs, &types] {
        // Always the generic plan: a custom plan is planned again on every execution and,
        // made while a queue table is small, picks scans that do not scale as it grows;
        // ANALYZE (autovacuum) invalidates the generic plan so that it follows the data.
        SPIPlanPtr prepared = with_index_plans([&] {
            return SPI_prepare_cursor(query.c_str(), nargs, types.data(), CURSOR_OPT_GENERIC_PLAN);
        });
        if (prepared == nullptr) {
            elog(ERROR, "SPI_prepare_cursor failed: %s", SPI_result_code_string(SPI_result));
        }
        if (SPI_keepplan(prepared) != 0) {
            elog(ERROR, "SPI_keepplan failed");
        }
        return prepared;
    });
    plans.emplace(std::move(key), plan);
    return plan;
}

} // namespace

SpiConnection::SpiConnection() {
    int rc = call([] { return SPI_connect(); });
    if (rc != SPI_OK_CONNECT) {
        throw SqlError(ERRCODE_INTERNAL_ERROR,
                       "SPI_connect failed: " + std::string(SPI_result_code_string(rc)));
    }
    connected_ = true;
}

SpiConnection::~SpiConnection() {
    if (connected_) {
        // SPI_finish only fails when not connected; a destructor must not throw.
        try {
            call([] { SPI_finish(); });
        } catch (...) {
        }
    }
}

SpiRows SpiConnection::execute(std::string_view sql, std::span<const SqlText> params,
                               bool read_only) {
    const std::vector<Oid> types(params.size(), TEXTOID);
    return run(sql, params, types, read_only);
}

SpiRows SpiConnection::execute_typed(std::string_view sql, std::span<const SqlText> params,
                                     std::span<const Oid> types) {
    if (types.size() != params.size()) {
        throw std::invalid_argument("execute_typed: one type per parameter");
    }
    return run(sql, params, types, false);
}

SpiRows SpiConnection::run(std::string_view sql, std::span<const SqlText> params,
                           std::span<const Oid> types, bool read_only) {
    const std::string query(sql);
    std::vector<Datum> values(params.size());
    std::vector<char> nulls(params.size(), ' ');
    for (size_t i = 0; i < params.size(); ++i) {
        if (!params[i]) {
            nulls[i] = 'n';
            continue;
        }
        const std::string& v = *params[i];
        const Oid type = types[i];
        values[i] = call([&v, type] {
            if (type == TEXTOID) {
                return PointerGetDatum(
                    cstring_to_text_with_len(v.data(), static_cast<int>(v.size())));
            }
            Oid input_function, input_param;
            getTypeInputInfo(type, &input_function, &input_param);
            return OidInputFunctionCall(input_function, const_cast<char*>(v.c_str()), input_param,
                                        -1);
        });
    }
    SPIPlanPtr plan = prepared_plan(query, types);
    Datum* value_ptr = values.data();
    const char* null_ptr = nulls.data();
    // (A plan invalidated by ANALYZE is made again here, under the same setting.)
    int rc = call([=] {
        return with_index_plans(
            [=] { return SPI_execute_plan(plan, value_ptr, null_ptr, read_only, 0); });
    });
    if (rc < 0) {
        throw SqlError(ERRCODE_INTERNAL_ERROR,
                       "SPI_execute failed: " + std::string(SPI_result_code_string(rc)));
    }
    SpiRows result;
    result.processed = SPI_processed;
    SPITupleTable* table = SPI_tuptable;
    if (table == nullptr) {
        return result;
    }
    TupleDesc desc = table->tupdesc;
    for (int c = 1; c <= desc->natts; ++c) {
        result.columns.emplace_back(NameStr(TupleDescAttr(desc, c - 1)->attname));
    }
    for (uint64_t r = 0; r < SPI_processed; ++r) {
        HeapTuple tuple = table->vals[r];
        std::vector<SqlText> row;
        row.reserve(desc->natts);
        for (int c = 1; c <= desc->natts; ++c) {
            char* text = call([=] { return SPI_getvalue(tuple, desc, c); });
            if (text == nullptr) {
                row.emplace_back(std::nullopt);
            } else {
                row.emplace_back(std::string(text));
                pfree(text);
            }
        }
        result.rows.push_back(std::move(row));
    }
    return result;
}

} // namespace duroxide::pg
