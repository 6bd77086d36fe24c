// SPI access for C++ code: an RAII connection and guarded statement execution.
// Every SPI call goes through pg::call, so a PostgreSQL error becomes a pg::SqlError.
//
// Two ways to run a statement, and no policy of their own (the caller chooses):
//  * plainly (execute, execute_typed): parsed and planned for this execution only, with the
//    session's planner settings, nothing kept. For statements given at run time (an activity's
//    ctx.sql()) and for rare ones.
//  * as a member of a StatementSet: prepared once per process under the set's planner policy
//    and kept. For a fixed set of statements run thousands of times (the store's).
#pragma once

#include "pg/postgres.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace duroxide::pg {

using SqlText = std::optional<std::string>; // NULL is std::nullopt

struct SpiRows {
    std::vector<std::string> columns;
    std::vector<std::vector<SqlText>> rows; // values in text output form
    uint64_t processed = 0;                 // rows affected or returned
};

// A planner setting (a GUC and its value) applied while a set's statements are planned and run.
struct PlannerSetting {
    const char* name;
    const char* value;
};

// How the statements of a StatementSet are planned.
struct PlanPolicy {
    std::vector<PlannerSetting> settings; // set around planning and each execution, then undone
    bool generic_plan = false;            // always the generic plan (no custom re-planning)
};

// A fixed set of statements, each prepared on first use under `policy` and kept for the life of
// the process (SPI_keepplan; PostgreSQL's plan cache re-plans it when a table it uses changes).
// The set is keyed by statement text and parameter types; it is meant for statements written in
// the source, so more than `capacity` distinct ones is a programming error (an internal error,
// not a leak).
class StatementSet {
public:
    StatementSet(std::string name, PlanPolicy policy, std::size_t capacity);
    StatementSet(const StatementSet&) = delete;
    StatementSet& operator=(const StatementSet&) = delete;

    const PlanPolicy& policy() const noexcept { return policy_; }
    std::size_t size() const noexcept { return plans_.size(); }

    // The kept plan of `sql` with `types`, prepared now if it is new.
    SPIPlanPtr plan(std::string_view sql, std::span<const Oid> types);

private:
    std::string name_;
    PlanPolicy policy_;
    std::size_t capacity_;
    std::unordered_map<std::string, SPIPlanPtr> plans_;
};

// Connects to SPI for the lifetime of the object (SPI_connect / SPI_finish).
class SpiConnection {
public:
    SpiConnection();
    ~SpiConnection();
    SpiConnection(const SpiConnection&) = delete;
    SpiConnection& operator=(const SpiConnection&) = delete;

    // Runs `sql` plainly with text parameters $1..$n (typed as text; cast in SQL where needed).
    SpiRows execute(std::string_view sql, std::span<const SqlText> params = {},
                    bool read_only = false);
    // The same with declared parameter types: each value is converted once by its type's
    // input function. Use it for arrays compared row by row (`col = ANY ($1)`), where a cast
    // of a text parameter would be evaluated for every row.
    SpiRows execute_typed(std::string_view sql, std::span<const SqlText> params,
                          std::span<const Oid> types);

    // The same for a statement of `set`: its kept plan, run under its policy.
    SpiRows execute(StatementSet& set, std::string_view sql, std::span<const SqlText> params = {},
                    bool read_only = false);
    SpiRows execute_typed(StatementSet& set, std::string_view sql, std::span<const SqlText> params,
                          std::span<const Oid> types);

private:
    SpiRows run(StatementSet* set, std::string_view sql, std::span<const SqlText> params,
                std::span<const Oid> types, bool read_only);

    bool connected_ = false;
};

} // namespace duroxide::pg
