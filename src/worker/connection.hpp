// One libpq connection of the remote worker (a worker slot's): statements with text
// parameters, errors as PgError with their SQLSTATE, and waiting for a notification.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace duroxide::worker {

// An error the server raised (sqlstate set) or a lost connection (sqlstate empty, broken()).
class PgError : public std::runtime_error {
public:
    PgError(std::string message, std::string sqlstate)
        : std::runtime_error(std::move(message)), sqlstate_(std::move(sqlstate)) {}
    const std::string& sqlstate() const noexcept { return sqlstate_; }

private:
    std::string sqlstate_;
};

struct Rows {
    std::vector<std::string> columns;
    std::vector<std::vector<std::optional<std::string>>> rows;
    uint64_t affected = 0;
};

class Connection {
public:
    // Connects (throws PgError when it cannot).
    explicit Connection(const std::string& conninfo);
    Rows exec(std::string_view sql, std::span<const std::optional<std::string>> params = {});
    // Whether the connection is gone (the slot reconnects).
    bool broken() const;
    // Waits up to `timeout` for a notification; true when one came.
    bool wait_for_notification(std::chrono::milliseconds timeout);

private:
    struct Close {
        void operator()(PGconn* conn) const { PQfinish(conn); }
    };
    std::unique_ptr<PGconn, Close> conn_;
};

} // namespace duroxide::worker
