#include "pg/transaction.hpp"

#include "pg/guard.hpp"

#include <string>

extern "C" {
#include "pgstat.h"
#include "utils/snapmgr.h"
}

namespace duroxide::pg {

WorkerTransaction::WorkerTransaction(std::string_view activity) {
    const std::string text(activity);
    const char* activity_text = text.c_str();
    call([activity_text] {
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        PushActiveSnapshot(GetTransactionSnapshot());
        pgstat_report_activity(STATE_RUNNING, activity_text);
    });
    open_ = true;
}

void WorkerTransaction::commit() {
    call([] {
        PopActiveSnapshot();
        CommitTransactionCommand();
        pgstat_report_stat(false);
        pgstat_report_activity(STATE_IDLE, nullptr);
    });
    open_ = false;
}

WorkerTransaction::~WorkerTransaction() {
    if (!open_) {
        return;
    }
    // Abort cleans up SPI, snapshots, locks and memory of the failed unit of work.
    try {
        call([] {
            AbortCurrentTransaction();
            pgstat_report_activity(STATE_IDLE, nullptr);
        });
    } catch (...) {
        // Nothing sensible is left to do in a destructor; the next StartTransactionCommand
        // will report a broken state loudly.
    }
}

FreshSnapshot::FreshSnapshot() {
    call([] { PushActiveSnapshot(GetTransactionSnapshot()); });
}

FreshSnapshot::~FreshSnapshot() {
    try {
        call([] { PopActiveSnapshot(); });
    } catch (...) {
        // The transaction is failing anyway; its abort releases the snapshot.
    }
}

} // namespace duroxide::pg
