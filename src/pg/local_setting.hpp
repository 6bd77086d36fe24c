// A configuration setting changed for the length of one call, as a function's SET clause does:
// the previous value comes back when the call returns or throws (and, should the call's
// subtransaction abort first, with that abort). For settings that govern waits, such as
// lock_timeout around statements that must not queue behind another transaction.
#pragma once

#include "pg/guard.hpp"

#include <type_traits>

namespace duroxide::pg {

// Opens a setting nest level and sets `name` to `value` in it; returns the level.
int push_setting(const char* name, const char* value);
// Closes the level `push_setting` returned (restoring what it changed).
void pop_setting(int nest_level, bool committed);

template <typename Fn>
auto with_setting(const char* name, const char* value, Fn&& fn) -> std::invoke_result_t<Fn&> {
    const int level = push_setting(name, value);
    try {
        if constexpr (std::is_void_v<std::invoke_result_t<Fn&>>) {
            fn();
            pop_setting(level, true);
        } else {
            auto result = fn();
            pop_setting(level, true);
            return result;
        }
    } catch (...) {
        pop_setting(level, false);
        throw;
    }
}

} // namespace duroxide::pg
