// What the client functions need to know about an instance id before they write anything:
// whether the id is taken (by an instance row or by a start still queued), by which
// orchestration and which role, and whether an orchestration name/version is provided by
// anything registered. Read with the id's claim lock held (lock_instance_id), so that two
// concurrent starts of one id are decided one after the other.
#pragma once

#include "pg/postgres.hpp"
#include "pg/spi.hpp"

#include <optional>
#include <string>

namespace duroxide::store {

struct InstanceClaim {
    std::string orchestration; // the instance's (or the queued start's) orchestration
    std::optional<Oid> owner;  // the owner role; nullopt: none recorded
    bool started = false;      // an instance row exists (false: only a queued start)
};

// Takes the transaction-level claim lock of `instance` (an advisory lock on its hash; held to
// commit or rollback). A concurrent start of the same id waits for this transaction.
void lock_instance_id(pg::SpiConnection& spi, const std::string& instance);

// The instance row, or else the oldest queued StartOrchestration for `instance` (including one
// this transaction queued). nullopt: the id is free.
std::optional<InstanceClaim> instance_claim(pg::SpiConnection& spi, const std::string& instance);

// Whether something registered provides orchestration `name` (at exactly `version` when given):
// duroxide._is_orchestration_provided, the one hook later providers extend.
bool orchestration_provided(pg::SpiConnection& spi, const std::string& name,
                            const std::optional<std::string>& version);

// A short list of what is registered, e.g. `"A" (1.0.0, 2.0.0), "B" (1.0.0)`, cut to a few
// names; "none" when nothing is.
std::string registered_orchestrations(pg::SpiConnection& spi);

} // namespace duroxide::store
