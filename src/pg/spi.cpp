#include "pg/spi.hpp"

#include "pg/guard.hpp"

#include <string>
#include <unordered_map>
#include <utility>

namespace duroxide::pg {

namespace {

// Statements are prepared once per process and kept (SPI_keepplan): the workers run the same
// few statements thousands of times, and parsing and planning them each time was a large part
// of a turn's CPU. PostgreSQL's plan cache re-plans a kept plan when a table it uses changes.
SPIPlanPtr prepared_plan(const std::string& query, int nargs) {
    static std::unordered_map<std::string, SPIPlanPtr> plans;
    auto found = plans.find(query);
    if (found != plans.end()) {
        return found->second;
    }
    std::vector<Oid> types(static_cast<size_t>(nargs), TEXTOID);
    SPIPlanPtr plan = call([&query, nargs, &types] {
        SPIPlanPtr prepared = SPI_prepare(query.c_str(), nargs, types.data());
        if (prepared == nullptr) {
            elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        }
        if (SPI_keepplan(prepared) != 0) {
            elog(ERROR, "SPI_keepplan failed");
        }
        return prepared;
    });
    plans.emplace(query, plan);
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
    const std::string query(sql);
    const int nargs = static_cast<int>(params.size());
    std::vector<Datum> values(params.size());
    std::vector<char> nulls(params.size(), ' ');
    for (size_t i = 0; i < params.size(); ++i) {
        if (params[i]) {
            const std::string& v = *params[i];
            values[i] = call([&v] {
                return PointerGetDatum(
                    cstring_to_text_with_len(v.data(), static_cast<int>(v.size())));
            });
        } else {
            nulls[i] = 'n';
        }
    }
    SPIPlanPtr plan = prepared_plan(query, nargs);
    Datum* value_ptr = values.data();
    const char* null_ptr = nulls.data();
    int rc = call([=] { return SPI_execute_plan(plan, value_ptr, null_ptr, read_only, 0); });
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
