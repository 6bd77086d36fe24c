// The SQL idea of a free session lease, shared by the worker queue's fetch (worker_fetch.cpp)
// and the session statements of store.cpp.
#pragma once

// A session another worker may claim: its lease ran out, or no live worker has its owner id.
#define SESSION_IS_FREE(table)                                                                     \
    "(" table                                                                                      \
    ".locked_until <= pg_catalog.clock_timestamp() OR duroxide._session_owner_pid(" table          \
    ".owner_id) IS NULL)"
