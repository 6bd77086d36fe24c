// A top-level transaction for background workers, as an RAII scope: started with a snapshot
// in the constructor (use pg::SpiConnection inside it for statements), committed by commit(),
// aborted by the destructor when commit() was not reached (an exception, including a PostgreSQL
// error converted by pg::call, unwound through it). This is how a worker survives a failed unit of
// work and goes on with the next one.
#pragma once

#include <string_view>

namespace duroxide::pg {

class WorkerTransaction {
public:
    // `activity` is shown in pg_stat_activity while the transaction runs.
    explicit WorkerTransaction(std::string_view activity);
    ~WorkerTransaction();
    WorkerTransaction(const WorkerTransaction&) = delete;
    WorkerTransaction& operator=(const WorkerTransaction&) = delete;

    void commit();

private:
    bool open_ = false;
};

// For its lifetime, a snapshot taken now is the active one (READ COMMITTED: everything committed
// so far). Statements that read with the active snapshot (read-only SPI) late in a long
// transaction, such as an activity's, otherwise see the world as it was when it began.
class FreshSnapshot {
public:
    FreshSnapshot();
    ~FreshSnapshot();
    FreshSnapshot(const FreshSnapshot&) = delete;
    FreshSnapshot& operator=(const FreshSnapshot&) = delete;
};

} // namespace duroxide::pg
