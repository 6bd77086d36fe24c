// duroxide_test.so: the store probes (store_probe.cpp) and the boundary self-tests
// (boundary_selftest.cpp), built for the tests only. It calls into duroxide.so, which every test
// server preloads (shared_preload_libraries; PostgreSQL loads libraries with RTLD_GLOBAL).
extern "C" {
#include "postgres.h"

#include "fmgr.h"
PG_MODULE_MAGIC;
}
