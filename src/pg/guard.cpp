#include "pg/guard.hpp"

#include <cstring>
#include <string>

namespace duroxide::pg {

std::string unpack_sqlstate(int sqlstate) {
    return std::string(::unpack_sql_state(sqlstate));
}

std::string SqlError::sqlstate_text() const {
    return unpack_sqlstate(sqlstate_);
}

void rethrow_current_pg_error(MemoryContext restore_to) {
    MemoryContextSwitchTo(restore_to);
    ErrorData* error_data = CopyErrorData();
    FlushErrorState();
    auto text = [](const char* s) { return s ? std::string(s) : std::string(); };
    SqlError error(error_data->sqlerrcode, text(error_data->message), text(error_data->detail),
                   text(error_data->hint), text(error_data->context));
    FreeErrorData(error_data);
    throw error;
}

namespace {

// palloc-copies text; never raises (a failed copy falls back to a static string).
const char* copy_text(const std::string& s, const char* fallback) noexcept {
    if (s.empty()) {
        return nullptr;
    }
    char* copy = static_cast<char*>(palloc_extended(s.size() + 1, MCXT_ALLOC_NO_OOM));
    if (copy == nullptr) {
        return fallback;
    }
    std::memcpy(copy, s.c_str(), s.size() + 1);
    return copy;
}

} // namespace

void capture_current_exception(const char* where, CaughtError& out) noexcept {
    try {
        throw;
    } catch (const SqlError& e) {
        out.sqlstate = e.sqlstate();
        out.message = copy_text(e.what(), "duroxide: error");
        out.detail = copy_text(e.detail(), nullptr);
        out.hint = copy_text(e.hint(), nullptr);
    } catch (const std::bad_alloc&) {
        out.sqlstate = ERRCODE_OUT_OF_MEMORY;
        out.message = "out of memory";
    } catch (const std::exception& e) {
        out.sqlstate = ERRCODE_INTERNAL_ERROR;
        try {
            out.message = copy_text(std::string("duroxide (") + where + "): " + e.what(),
                                    "duroxide: internal error");
        } catch (...) {
            out.message = "duroxide: internal error";
        }
    } catch (...) {
        out.sqlstate = ERRCODE_INTERNAL_ERROR;
        out.message = "duroxide: unknown C++ exception";
    }
    if (out.message == nullptr) {
        out.message = "duroxide: error";
    }
}

void report_caught(int elevel, const CaughtError& caught) {
    ereport(elevel, (errcode(caught.sqlstate), errmsg_internal("%s", caught.message),
                     caught.detail ? errdetail_internal("%s", caught.detail) : 0,
                     caught.hint ? errhint("%s", caught.hint) : 0));
}

} // namespace duroxide::pg
