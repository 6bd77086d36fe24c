// The store's statements and how they are planned: the store's policy, applied by src/pg's
// StatementSet mechanism (docs/architecture.md, "Statement preparation").
//
// Every statement of the store is written in its source, so they form a fixed set: each is
// prepared once per process and kept, with sequential and bitmap scans and JIT off and always
// the generic plan. Statements given at run time (an activity's ctx.sql()) never go through it.
#pragma once

#include "pg/spi.hpp"

#include <span>
#include <string_view>

namespace duroxide::store {

// The process's set of store statements.
pg::StatementSet& statement_set();

// A connection as the store uses it: every statement through statement_set().
class Statements {
public:
    Statements(pg::SpiConnection& spi) : spi_(spi) {} // NOLINT: converts implicitly

    pg::SpiRows execute(std::string_view sql, std::span<const pg::SqlText> params = {},
                        bool read_only = false) {
        return spi_.execute(statement_set(), sql, params, read_only);
    }
    pg::SpiRows execute_typed(std::string_view sql, std::span<const pg::SqlText> params,
                              std::span<const Oid> types) {
        return spi_.execute_typed(statement_set(), sql, params, types);
    }

private:
    pg::SpiConnection& spi_;
};

} // namespace duroxide::store
