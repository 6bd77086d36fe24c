#include "pg/spi.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "utils/guc.h"
#include "utils/lsyscache.h"
}

#include <stdexcept>
#include <string>
#include <utility>

namespace duroxide::pg {

namespace {

// Runs `body` with the policy's planner settings, undone when it returns (and by transaction or
// subtransaction abort when it raises).
template <typename Body>
auto with_settings(const PlanPolicy& policy, Body&& body) {
    if (policy.settings.empty()) {
        return body();
    }
    const int nest_level = NewGUCNestLevel();
    for (const PlannerSetting& setting : policy.settings) {
        (void)set_config_option(setting.name, setting.value, PGC_USERSET, PGC_S_SESSION,
                                GUC_ACTION_SAVE, true, 0, false);
    }
    auto result = body();
    AtEOXact_GUC(true, nest_level);
    return result;
}

} // namespace

StatementSet::StatementSet(std::string name, PlanPolicy policy, std::size_t capacity)
    : name_(std::move(name)), policy_(std::move(policy)), capacity_(capacity) {}

SPIPlanPtr StatementSet::plan(std::string_view sql, std::span<const Oid> param_types) {
    std::string key(sql);
    for (Oid type : param_types) {
        key += "\x1f" + std::to_string(type);
    }
    auto found = plans_.find(key);
    if (found != plans_.end()) {
        return found->second;
    }
    if (plans_.size() >= capacity_) {
        throw SqlError(ERRCODE_INTERNAL_ERROR,
                       "duroxide: statement set \"" + name_ + "\" is full (" +
                           std::to_string(capacity_) + " statements)",
                       "A statement built at run time was run as one of the set's fixed "
                       "statements.");
    }
    const std::string query(sql);
    std::vector<Oid> types(param_types.begin(), param_types.end());
    const int nargs = static_cast<int>(types.size());
    const int options = policy_.generic_plan ? CURSOR_OPT_GENERIC_PLAN : 0;
    const PlanPolicy& policy = policy_;
    SPIPlanPtr plan = call([&query, nargs, &types, options, &policy] {
        SPIPlanPtr prepared = with_settings(policy, [&] {
            return SPI_prepare_cursor(query.c_str(), nargs, types.data(), options);
        });
        if (prepared == nullptr) {
            elog(ERROR, "SPI_prepare_cursor failed: %s", SPI_result_code_string(SPI_result));
        }
        if (SPI_keepplan(prepared) != 0) {
            elog(ERROR, "SPI_keepplan failed");
        }
        return prepared;
    });
    plans_.emplace(std::move(key), plan);
    return plan;
}

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
    return run(nullptr, sql, params, types, read_only);
}

SpiRows SpiConnection::execute_typed(std::string_view sql, std::span<const SqlText> params,
                                     std::span<const Oid> types) {
    if (types.size() != params.size()) {
        throw std::invalid_argument("execute_typed: one type per parameter");
    }
    return run(nullptr, sql, params, types, false);
}

SpiRows SpiConnection::execute(StatementSet& set, std::string_view sql,
                               std::span<const SqlText> params, bool read_only) {
    const std::vector<Oid> types(params.size(), TEXTOID);
    return run(&set, sql, params, types, read_only);
}

SpiRows SpiConnection::execute_typed(StatementSet& set, std::string_view sql,
                                     std::span<const SqlText> params, std::span<const Oid> types) {
    if (types.size() != params.size()) {
        throw std::invalid_argument("execute_typed: one type per parameter");
    }
    return run(&set, sql, params, types, false);
}

SpiRows SpiConnection::run(StatementSet* set, std::string_view sql, std::span<const SqlText> params,
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
    Datum* value_ptr = values.data();
    const char* null_ptr = nulls.data();
    int rc;
    if (set == nullptr) {
        // Planned for this execution only, with the session's settings; nothing is kept.
        std::vector<Oid> type_copy(types.begin(), types.end());
        Oid* type_ptr = type_copy.data();
        const int nargs = static_cast<int>(type_copy.size());
        const char* query_text = query.c_str();
        rc = call([=] {
            return SPI_execute_with_args(query_text, nargs, type_ptr, value_ptr, null_ptr,
                                         read_only, 0);
        });
    } else {
        SPIPlanPtr plan = set->plan(query, types);
        const PlanPolicy* policy = &set->policy();
        // (A plan invalidated by ANALYZE is made again here, under the same settings.)
        rc = call([=] {
            return with_settings(
                *policy, [=] { return SPI_execute_plan(plan, value_ptr, null_ptr, read_only, 0); });
        });
    }
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
