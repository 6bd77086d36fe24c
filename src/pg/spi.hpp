// SPI access for C++ code: an RAII connection and guarded statement execution.
// Every SPI call goes through pg::call, so a PostgreSQL error becomes a pg::SqlError.
#pragma once

#include "pg/postgres.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace duroxide::pg {

using SqlText = std::optional<std::string>; // NULL is std::nullopt

struct SpiRows {
    std::vector<std::string> columns;
    std::vector<std::vector<SqlText>> rows; // values in text output form
    uint64_t processed = 0;                 // rows affected or returned
};

// Connects to SPI for the lifetime of the object (SPI_connect / SPI_finish).
class SpiConnection {
public:
    SpiConnection();
    ~SpiConnection();
    SpiConnection(const SpiConnection&) = delete;
    SpiConnection& operator=(const SpiConnection&) = delete;

    // Runs `sql` with text parameters $1..$n (typed as text; cast in SQL where needed).
    SpiRows execute(std::string_view sql, std::span<const SqlText> params = {},
                    bool read_only = false);
    // The same with declared parameter types: each value is converted once by its type's
    // input function. Use it for arrays compared row by row (`col = ANY ($1)`), where a cast
    // of a text parameter would be evaluated for every row.
    SpiRows execute_typed(std::string_view sql, std::span<const SqlText> params,
                          std::span<const Oid> types);

private:
    SpiRows run(std::string_view sql, std::span<const SqlText> params, std::span<const Oid> types,
                bool read_only);

    bool connected_ = false;
};

} // namespace duroxide::pg
