# duroxide — PGXS build of the extension, plus the developer targets (unit tests, full test run).
#
#   make                 build duroxide.so
#   make install         install library, control file, SQL scripts and public headers
#   make unit            build and run the GoogleTest unit tests of src/core (no server)
#   make installcheck    the pg_regress suites (test/regress) against the installed, running
#                        server of PGHOST/PGPORT (what it needs: docs/development.md)
#   make format          apply .clang-format;  make format-check: fail on any difference
#   make check-all       everything: unit tests, pg_regress, isolation and TAP suites on a
#                        throwaway cluster (same as scripts/test.sh)
#   make check-pg-versions  build against every PostgreSQL installation found (PG_CONFIGS)

EXTENSION   = duroxide
MODULE_big  = duroxide
PG_CONFIG  ?= pg_config

# Sources are picked up by folder: one folder per layer (see docs/architecture.md).
LAYERS      = src/core src/pg src/store src/runtime src/sql_api
SRCS       := $(sort $(shell find $(LAYERS) -name '*.cpp' 2>/dev/null))
OBJS        = $(SRCS:.cpp=.o)

# The current version's scripts (duroxide.control's default_version) are built (sql/README.md):
#   install  duroxide--<current>.sql          = sql/install/*.sql (tables, indexes, roles, schemas)
#                                              + sql/objects/*.sql + sql/activate.sql
#   upgrade  duroxide--<old>--<current>.sql   = sql/upgrade/<old>--<current>.sql (DDL on tables,
#                                              DROPs) + sql/objects/*.sql
#                                              + sql/upgrade/<old>--<current>.post.sql (if any)
# sql/objects/*.sql holds every function, view, trigger, comment and grant, each written once as
# CREATE OR REPLACE, so that the same text installs and upgrades. Released versions' install
# scripts and upgrades between released versions are committed as they shipped.
CURRENT_VERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" duroxide.control)
INSTALL_PIECES = $(sort $(wildcard sql/install/*.sql))
OBJECT_PIECES  = $(sort $(wildcard sql/objects/*.sql))
UPGRADE_PARTS  = $(wildcard sql/upgrade/*--$(CURRENT_VERSION).sql)
DATA_built  = sql/duroxide--$(CURRENT_VERSION).sql \
              $(patsubst sql/upgrade/%.sql,sql/duroxide--%.sql,$(UPGRADE_PARTS))
DATA        = $(filter-out $(DATA_built),$(wildcard sql/duroxide--*.sql))
# The postgres_exporter queries of the duroxide series (docs/operations.md, "Prometheus").
DATA       += prometheus/duroxide_exporter_queries.yaml
HEADERS_duroxide = $(wildcard include/duroxide/*.hpp)

PGXS       := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifeq ($(PGXS),)
$(error pg_config not found or not working: install the PostgreSQL server development headers \
  (Debian: apt-get install postgresql-server-dev-15) or run scripts/install-deps.sh)
endif
PG_INCLUDEDIR_SERVER := $(shell $(PG_CONFIG) --includedir-server)
ifeq ($(wildcard $(PG_INCLUDEDIR_SERVER)/postgres.h),)
$(error PostgreSQL server headers missing in $(PG_INCLUDEDIR_SERVER): apt-get install \
  postgresql-server-dev-15 (or run scripts/install-deps.sh))
endif

# PostgreSQL's headers are treated as system headers so that -Werror applies to our code only.
PG_CPPFLAGS = -isystem $(PG_INCLUDEDIR_SERVER) -I$(CURDIR)/include -I$(CURDIR)/src \
              -DRAPIDJSON_HAS_STDSTRING=1
# PostgreSQL 16 and later build modules with -fvisibility=hidden (CXXFLAGS_SL_MODULE, appended
# after PG_CXXFLAGS); the test extension duroxide_test (test/probes) links against duroxide.so's
# C++ symbols, so they stay visible as on 15. (override: Makefile.global sets it too.)
override CXXFLAGS_SL_MODULE = -fvisibility-inlines-hidden
PG_CXXFLAGS = -std=c++20 -fvisibility-inlines-hidden -Wall -Wextra -Werror \
              -Wshadow -Wno-unused-parameter -MMD -MP
SHLIB_LINK  = -lstdc++ -lboost_context -lcurl

# No LLVM bitcode for JIT inlining: our C++ is not useful to the JIT and needs clang++.
override with_llvm = no

# pg_regress suites: test/regress/{sql,expected}, in the order of test/regress/schedule (which
# they must not depend on). `make installcheck` runs them as a superuser in database
# duroxide_regress of a running server set up as docs/development.md says.
REGRESS      = $(shell sed -n 's/^test: *//p' test/regress/schedule)
REGRESS_OPTS = --inputdir=test/regress --outputdir=build/regress
REGRESS_PREP = regress-prep

include $(PGXS)

# Set after PGXS, which names the database contrib_regression (used by REGRESS_OPTS when run).
CONTRIB_TESTDB = duroxide_regress
# pg_regress drops and creates the database, which duroxide's workers of an earlier run keep
# open: drop it first, with FORCE (which ends their connections).
.PHONY: regress-prep
regress-prep:
	@mkdir -p build/regress
	'$(bindir)/psql' -X -q -d postgres -c 'SET client_min_messages = warning' \
	    -c 'DROP DATABASE IF EXISTS $(CONTRIB_TESTDB) WITH (FORCE)'

# The folders are prerequisites too, so that removing a piece rebuilds the scripts.
sql/duroxide--$(CURRENT_VERSION).sql: $(INSTALL_PIECES) $(OBJECT_PIECES) sql/activate.sql \
                                      sql/install sql/objects
	cat $(filter %.sql,$^) > $@

sql/duroxide--%--$(CURRENT_VERSION).sql: sql/upgrade/%--$(CURRENT_VERSION).sql $(OBJECT_PIECES) \
                                         $(wildcard sql/upgrade/*.post.sql) sql/objects
	cat $< $(OBJECT_PIECES) $(wildcard sql/upgrade/$*--$(CURRENT_VERSION).post.sql) > $@

# Header edits rebuild what includes them.
-include $(OBJS:.o=.d)
# So does another PG_CONFIG (the .d files leave out the server headers, included as system
# headers): the stamp changes when the server include directory does (docs/compatibility.md).
PG_HEADERS_STAMP := build/pg-headers
$(shell mkdir -p build && echo '$(PG_INCLUDEDIR_SERVER)' | cmp -s - $(PG_HEADERS_STAMP) || \
        echo '$(PG_INCLUDEDIR_SERVER)' > $(PG_HEADERS_STAMP))
$(OBJS): $(PG_HEADERS_STAMP)

# The core must never see PostgreSQL (DESIGN.md §2); checked on every build.
all: check-core-purity check-store-statements
.PHONY: check-core-purity check-store-statements check-version unit check-all format format-check
check-core-purity: check-version
	@if grep -rnE '#[[:space:]]*include[[:space:]]*[<"](postgres|postgres_ext|fmgr|miscadmin|executor/spi|utils/[a-z_]+)\.h' \
	      src/core include/duroxide; then \
	   echo "error: src/core and include/duroxide must not include PostgreSQL headers" >&2; exit 1; fi

# Every statement against duroxide.* from C++ lives in src/store (a named store operation);
# checked on every build. The store's SQL probes and the boundary self-test are test-only code
# (test/probes), outside the folders checked.
# duroxide-worker's provider is a libpq client of the server's SQL API (sql/objects/
# 84_remote_workers.sql), like any client: its calls live in that one file.
STORE_STATEMENT_CHECKED = $(filter-out src/store/% src/worker/libpq_activity_provider.cpp, \
    $(sort $(shell find src include -name '*.cpp' -o -name '*.hpp' 2>/dev/null)))
check-store-statements:
	@perl scripts/check-store-statements.pl --self-test \
	   test/check/store_statements_flagged.cpp.txt test/check/store_statements_clean.cpp.txt
	@perl scripts/check-store-statements.pl $(STORE_STATEMENT_CHECKED)

# The runtime's shared-memory lock is taken only inside SharedState, by its scoped guard
# (src/runtime/process/shared_state.cpp); nowhere else may acquire or release an LWLock.
all: check-shared-lock
.PHONY: check-shared-lock
check-shared-lock:
	@if grep -rnE 'LWLock(Acquire|ConditionalAcquire|AcquireOrWait|Release)[[:space:]]*\(' src \
	      --include='*.cpp' --include='*.hpp' --include='*.h' --include='*.c' \
	      | grep -v '^src/runtime/process/shared_state\.cpp:'; then \
	   echo "error: LWLocks are taken only in src/runtime/process/shared_state.cpp (SharedState)" >&2; exit 1; fi

# One version everywhere: the control file, the library and the public header.
check-version:
	@grep -q 'kLibraryVersion = "$(CURRENT_VERSION)"' include/duroxide/version.hpp || { \
	   echo "error: include/duroxide/version.hpp does not say $(CURRENT_VERSION)" >&2; exit 1; }

unit:
	$(MAKE) -f test/unit/Makefile run

# Micro-benchmarks of the replay engine (figures in docs/architecture.md); not a test.
.PHONY: bench-core
bench-core:
	$(MAKE) -f bench/core/Makefile run

CXX_FILES = $(shell git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' 2>/dev/null)
format:
	clang-format -i $(CXX_FILES)
format-check:
	clang-format --dry-run --Werror $(CXX_FILES)

check-all:
	scripts/test.sh

# Compile check against every other PostgreSQL installation found (docs/compatibility.md).
.PHONY: check-pg-versions
check-pg-versions:
	scripts/check-pg-versions.sh

clean: clean-unit
clean-unit:
	rm -rf build
	$(MAKE) -C test/probes clean
	find $(LAYERS) -name '*.d' -delete

# duroxide-worker (src/worker): the remote activity worker, a plain program over libpq that
# reuses src/core (the objects built for the extension: the core never sees PostgreSQL) and
# loads the same plugin .so files (docs/operations.md, "Remote activity workers"). Installed
# into $(bindir) (pg_config --bindir) by `make install`.
WORKER_SRCS := $(sort $(wildcard src/worker/*.cpp))
WORKER_OBJS := $(patsubst src/%.cpp,build/worker/%.o,$(WORKER_SRCS))
WORKER_CORE_OBJS := $(filter src/core/%,$(OBJS))
all: duroxide-worker
duroxide-worker: $(WORKER_OBJS) $(WORKER_CORE_OBJS)
	$(CXX) -o $@ $^ -L$(shell $(PG_CONFIG) --libdir) -lpq -lboost_context -ldl -lpthread
build/worker/%.o: src/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) -std=c++20 -O2 -g -Wall -Wextra -Werror -Wshadow -I$(shell $(PG_CONFIG) --includedir) \
	    -I$(CURDIR)/include -I$(CURDIR)/src -DRAPIDJSON_HAS_STDSTRING=1 -MMD -MP -c $< -o $@
-include $(WORKER_OBJS:.o=.d)
.PHONY: install-worker
install: install-worker
install-worker: duroxide-worker
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) duroxide-worker '$(DESTDIR)$(bindir)/duroxide-worker'
clean: clean-worker
clean-worker:
	rm -f duroxide-worker
