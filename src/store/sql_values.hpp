// Conversions between the store's typed rows and SQL text (parameters, SpiRows values), for the
// store's own files only: callers of the store see enums and integers, never this text.
#pragma once

#include "core/replay/turn.hpp"
#include "pg/postgres.hpp"
#include "pg/spi.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace duroxide::store {

// duroxide.executions.status as the table stores it.
inline const char* status_text(core::ExecutionStatus status) {
    switch (status) {
    case core::ExecutionStatus::Completed:
        return "Completed";
    case core::ExecutionStatus::Failed:
        return "Failed";
    case core::ExecutionStatus::ContinuedAsNew:
        return "ContinuedAsNew";
    case core::ExecutionStatus::Running:
        break;
    }
    return "Running";
}

// A status column's value; nullopt for NULL (no execution). The table's CHECK constraint admits
// the four statuses only.
inline std::optional<core::ExecutionStatus> status_of(const pg::SqlText& text) {
    if (!text) {
        return std::nullopt;
    }
    for (auto status : {core::ExecutionStatus::Running, core::ExecutionStatus::Completed,
                        core::ExecutionStatus::Failed, core::ExecutionStatus::ContinuedAsNew}) {
        if (*text == status_text(status)) {
            return status;
        }
    }
    throw std::runtime_error("duroxide: unknown execution status \"" + *text + "\"");
}

// An oid column's value (a role's, a function's); nullopt for NULL.
inline std::optional<Oid> oid_of(const pg::SqlText& text) {
    if (!text) {
        return std::nullopt;
    }
    return static_cast<Oid>(std::stoul(*text));
}

// An oid parameter (cast with ::oid in the statement); NULL for nullopt.
inline pg::SqlText oid_text(std::optional<Oid> oid) {
    if (!oid) {
        return std::nullopt;
    }
    return std::to_string(*oid);
}

} // namespace duroxide::store
