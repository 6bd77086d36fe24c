#include "worker/connection.hpp"

#include <poll.h>

namespace duroxide::worker {

namespace {

struct ClearResult {
    void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ClearResult>;

} // namespace

Connection::Connection(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
        throw PgError(std::string("could not connect: ") +
                          (conn_ ? PQerrorMessage(conn_.get()) : "out of memory"),
                      "");
    }
}

Rows Connection::exec(std::string_view sql, std::span<const std::optional<std::string>> params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& param : params) {
        values.push_back(param ? param->c_str() : nullptr);
    }
    const std::string text(sql);
    Result result(PQexecParams(conn_.get(), text.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0));
    const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
        std::string message = result ? PQresultErrorMessage(result.get()) : "";
        if (message.empty()) {
            message = PQerrorMessage(conn_.get());
        }
        while (!message.empty() && message.back() == '\n') {
            message.pop_back();
        }
        throw PgError(message, state ? state : "");
    }
    Rows rows;
    const int ncols = PQnfields(result.get());
    for (int c = 0; c < ncols; ++c) {
        rows.columns.emplace_back(PQfname(result.get(), c));
    }
    const int nrows = PQntuples(result.get());
    for (int r = 0; r < nrows; ++r) {
        std::vector<std::optional<std::string>> row;
        for (int c = 0; c < ncols; ++c) {
            if (PQgetisnull(result.get(), r, c)) {
                row.emplace_back(std::nullopt);
            } else {
                row.emplace_back(
                    std::string(PQgetvalue(result.get(), r, c),
                                static_cast<std::size_t>(PQgetlength(result.get(), r, c))));
            }
        }
        rows.rows.push_back(std::move(row));
    }
    const char* tuples = PQcmdTuples(result.get());
    rows.affected = tuples && *tuples ? std::stoull(tuples) : static_cast<uint64_t>(nrows);
    return rows;
}

bool Connection::broken() const {
    return PQstatus(conn_.get()) != CONNECTION_OK;
}

bool Connection::wait_for_notification(std::chrono::milliseconds timeout) {
    auto take = [this] {
        bool any = false;
        while (PGnotify* notify = PQnotifies(conn_.get())) {
            PQfreemem(notify);
            any = true;
        }
        return any;
    };
    if (take()) {
        return true;
    }
    pollfd fd{.fd = PQsocket(conn_.get()), .events = POLLIN, .revents = 0};
    if (fd.fd < 0) {
        return false;
    }
    if (poll(&fd, 1, static_cast<int>(timeout.count())) > 0) {
        PQconsumeInput(conn_.get());
        return take();
    }
    return false;
}

} // namespace duroxide::worker
