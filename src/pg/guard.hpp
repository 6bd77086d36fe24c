// The PostgreSQL/C++ boundary (DESIGN.md §3, docs/architecture.md "The boundary").
//
// PostgreSQL reports errors with siglongjmp, which must never skip a C++ destructor, and C++
// exceptions must never unwind through PostgreSQL's C frames. Two guards keep them apart:
//
//  * pg::call(fn)   C++ -> PostgreSQL. Runs fn with a sigsetjmp frame of its own; a PostgreSQL
//                   ERROR inside fn lands back in this frame, the error state is copied and
//                   flushed, the memory context and error-context stack are restored, and the
//                   error is rethrown as pg::SqlError. fn itself must hold no object with a
//                   non-trivial destructor (it only calls PostgreSQL C functions).
//
//  * pg::entry(fn)  PostgreSQL -> C++. Every SQL-callable function, background-worker main and
//                   callback runs its C++ body through it. Any exception is caught, its text
//                   copied, and only after every C++ frame and the exception object are gone is
//                   it raised with ereport (SqlError keeps its SQLSTATE, detail and hint).
//
// After a caught ERROR the current transaction is unusable unless the failing work ran in a
// subtransaction: use pg::in_subtransaction for work whose failure the caller wants to survive.
#pragma once

#include "pg/postgres.hpp"
#include "pg/sql_error.hpp"

#include <csetjmp>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

namespace duroxide::pg {

// Copies and flushes the current PostgreSQL error and throws it as SqlError. Must be called in
// the catching frame with CurrentMemoryContext switched away from ErrorContext.
[[noreturn]] void rethrow_current_pg_error(MemoryContext restore_to);

template <typename Fn>
auto call(Fn&& fn) -> std::invoke_result_t<Fn&> {
    using Result = std::invoke_result_t<Fn&>;
    static_assert(std::is_void_v<Result> || std::is_trivially_destructible_v<Result>,
                  "pg::call bodies return plain values; build C++ objects outside the guard");
    MemoryContext const memory_context = CurrentMemoryContext;
    sigjmp_buf* const saved_exception_stack = PG_exception_stack;
    ErrorContextCallback* const saved_error_context = error_context_stack;
    sigjmp_buf local_jump_buffer;
    if (sigsetjmp(local_jump_buffer, 0) == 0) {
        PG_exception_stack = &local_jump_buffer;
        if constexpr (std::is_void_v<Result>) {
            fn();
            PG_exception_stack = saved_exception_stack;
            error_context_stack = saved_error_context;
            return;
        } else {
            Result result = fn();
            PG_exception_stack = saved_exception_stack;
            error_context_stack = saved_error_context;
            return result;
        }
    }
    PG_exception_stack = saved_exception_stack;
    error_context_stack = saved_error_context;
    rethrow_current_pg_error(memory_context);
}

// What an entry guard caught, copied into palloc'd memory so that the exception object can be
// destroyed before ereport longjmps.
struct CaughtError {
    int sqlstate = 0;
    const char* message = nullptr;
    const char* detail = nullptr;
    const char* hint = nullptr;
};

// Fills `out` from the exception currently being handled (call only inside a catch block).
void capture_current_exception(const char* where, CaughtError& out) noexcept;

// Raises `caught` with ereport at `elevel` (ERROR does not return).
void report_caught(int elevel, const CaughtError& caught);

template <typename Fn>
auto entry(const char* where, Fn&& fn, int elevel = ERROR) -> std::invoke_result_t<Fn&> {
    using Result = std::invoke_result_t<Fn&>;
    CaughtError caught;
    sigjmp_buf* const saved_exception_stack = PG_exception_stack;
    ErrorContextCallback* const saved_error_context = error_context_stack;
    try {
        return fn();
    } catch (...) {
        capture_current_exception(where, caught);
    }
    // Every C++ frame below us and the exception object are gone now.
    PG_exception_stack = saved_exception_stack;
    error_context_stack = saved_error_context;
    report_caught(elevel, caught);
    if constexpr (!std::is_void_v<Result>) {
        return Result{};
    }
}

// Runs fn (which may use pg::call) inside an internal subtransaction: on success the
// subtransaction is committed into the current transaction; on a C++ exception it is rolled
// back and the exception rethrown, leaving the outer transaction usable.
template <typename Fn>
auto in_subtransaction(Fn&& fn) -> std::invoke_result_t<Fn&> {
    MemoryContext const memory_context = CurrentMemoryContext;
    ResourceOwner const resource_owner = CurrentResourceOwner;
    call([] { BeginInternalSubTransaction(nullptr); });
    MemoryContextSwitchTo(memory_context);
    auto restore = [&] {
        MemoryContextSwitchTo(memory_context);
        CurrentResourceOwner = resource_owner;
    };
    try {
        if constexpr (std::is_void_v<std::invoke_result_t<Fn&>>) {
            fn();
            call([] { ReleaseCurrentSubTransaction(); });
            restore();
        } else {
            auto result = fn();
            call([] { ReleaseCurrentSubTransaction(); });
            restore();
            return result;
        }
    } catch (...) {
        call([] { RollbackAndReleaseCurrentSubTransaction(); });
        restore();
        throw;
    }
}

} // namespace duroxide::pg

// Declares a SQL-callable function `name` whose C++ body is `name##_impl(FunctionCallInfo)`,
// entered through pg::entry.
#define DUROXIDE_SQL_FUNCTION(name)                                                                \
    static Datum name##_impl(FunctionCallInfo fcinfo);                                             \
    extern "C" {                                                                                   \
    PG_FUNCTION_INFO_V1(name);                                                                     \
    PGDLLEXPORT Datum name(PG_FUNCTION_ARGS) {                                                     \
        return duroxide::pg::entry(#name, [fcinfo] { return name##_impl(fcinfo); });               \
    }                                                                                              \
    }                                                                                              \
    static Datum name##_impl(FunctionCallInfo fcinfo)
