// SPI access for C++ code: an RAII connection and guarded statement execution.
// Every SPI call goes through pg::call, so a PostgreSQL error becomes a pg::SqlError.
#pragma once

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

private:
    bool connected_ = false;
};

} // namespace duroxide::pg
