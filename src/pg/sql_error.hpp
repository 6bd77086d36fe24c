// SqlError: a PostgreSQL error travelling through C++ frames as an exception.
//
// It is thrown in two situations: a guarded call into PostgreSQL raised an ERROR (pg::call
// converts it, keeping SQLSTATE, message, detail, hint and context), or C++ code wants to
// report a SQL-level error (bad input, permission, ...). At the next PostgreSQL entry point the
// entry guard turns it back into ereport(ERROR) with the same fields.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace duroxide::pg {

class SqlError : public std::runtime_error {
public:
    // `sqlstate` is PostgreSQL's packed code (MAKE_SQLSTATE / ERRCODE_*).
    SqlError(int sqlstate, std::string message, std::string detail = {}, std::string hint = {},
             std::string context = {})
        : std::runtime_error(std::move(message)), sqlstate_(sqlstate), detail_(std::move(detail)),
          hint_(std::move(hint)), context_(std::move(context)) {}

    int sqlstate() const noexcept { return sqlstate_; }
    const std::string& detail() const noexcept { return detail_; }
    const std::string& hint() const noexcept { return hint_; }
    const std::string& context() const noexcept { return context_; }

    // The five-character SQLSTATE text, e.g. "22023".
    std::string sqlstate_text() const;

private:
    int sqlstate_;
    std::string detail_;
    std::string hint_;
    std::string context_;
};

// Unpacks a packed SQLSTATE into its five characters.
std::string unpack_sqlstate(int sqlstate);

} // namespace duroxide::pg
