#include "pg/local_setting.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace duroxide::pg {

int push_setting(const char* name, const char* value) {
    return call([name, value] {
        const int level = NewGUCNestLevel();
        (void)set_config_option(name, value, PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                                false);
        return level;
    });
}

void pop_setting(int nest_level, bool committed) {
    call([nest_level, committed] { AtEOXact_GUC(committed, nest_level); });
}

} // namespace duroxide::pg
