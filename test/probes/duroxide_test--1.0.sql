-- duroxide_test: test-only SQL functions, never part of the duroxide extension or library.
-- CREATE EXTENSION duroxide_test (superuser; requires duroxide) in a test database; the test
-- harness (scripts/test.sh, make installcheck) installs it with `make -C test/probes install`.
-- Functions live in schema duroxide_internal, for duroxide_admin only, like the rest of it.
\echo Use "CREATE EXTENSION duroxide_test" to load this file. \quit

-- Boundary self-tests (internal) ---------------------------------------------------------
CREATE FUNCTION duroxide_internal.selftest_throw(kind text) RETURNS text
    LANGUAGE c STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_selftest_throw';
COMMENT ON FUNCTION duroxide_internal.selftest_throw(text) IS
    'Internal: throws a C++ exception of the given kind to test the entry guard.';

CREATE FUNCTION duroxide_internal.selftest_unwound() RETURNS integer
    LANGUAGE c STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_selftest_unwound';
COMMENT ON FUNCTION duroxide_internal.selftest_unwound() IS
    'Internal: number of C++ frames unwound by selftest_throw in this backend.';

CREATE FUNCTION duroxide_internal.selftest_catch(query text) RETURNS text
    LANGUAGE c STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_selftest_catch';
COMMENT ON FUNCTION duroxide_internal.selftest_catch(text) IS
    'Internal: runs a query in a subtransaction and reports a PostgreSQL error caught in C++.';

-- Store probes (internal, unsupported): the store's operations as SQL functions, for the
-- provider validation suite (test/regress/sql/store_*.sql) and the isolation specs (test/isolation). Not
-- part of the SQL API: duroxide_admin only, and they run with the caller's rights on
-- duroxide's tables, so only the extension owner can use them. Each runs in the caller's
-- transaction. Lease owners are "probe owners" this backend registered (negative ids);
-- times are milliseconds; work items, events and error details are duroxide JSON.
-- (test/probes/store_probe.cpp; docs/development.md "The store's validation suite and its probes")
CREATE FUNCTION duroxide_internal.probe_attach(lease_owner bigint, session_owner text DEFAULT NULL)
    RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_probe_attach';
COMMENT ON FUNCTION duroxide_internal.probe_attach(bigint, text) IS
    'Internal: registers a live lease owner (negative id, optional session owner id) for this '
    'backend until it exits or calls probe_detach.';

CREATE FUNCTION duroxide_internal.probe_detach(lease_owner bigint DEFAULT NULL)
    RETURNS integer LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_probe_detach';
COMMENT ON FUNCTION duroxide_internal.probe_detach(bigint) IS
    'Internal: forgets a probe owner of this backend (all with NULL), as if it died; returns how many.';

CREATE FUNCTION duroxide_internal.store_enqueue_orchestrator(work_item jsonb, started_by oid DEFAULT NULL)
    RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_store_enqueue_orchestrator';
COMMENT ON FUNCTION duroxide_internal.store_enqueue_orchestrator(jsonb, oid) IS
    'Internal: the store''s client enqueue of a work item for an orchestrator queue.';

CREATE FUNCTION duroxide_internal.store_fetch_orchestration_items(lease_owner bigint,
    lock_timeout_ms integer DEFAULT 30000, max_items integer DEFAULT 1)
    RETURNS TABLE (instance text, lock_token text, attempt_count integer, instance_exists boolean,
                   execution_id bigint, execution_status text, owner_role oid, messages jsonb,
                   history jsonb, history_error text, kv_snapshot jsonb)
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_store_fetch_orchestration_items';
COMMENT ON FUNCTION duroxide_internal.store_fetch_orchestration_items(bigint, integer, integer) IS
    'Internal: the store''s orchestration fetch (instance locks, claimed messages, history; '
    'history_error when a history row does not decode; kv_snapshot as key: value).';

CREATE FUNCTION duroxide_internal.store_lock_for_inline_turn(instance text, lease_owner bigint,
    lock_timeout_ms integer DEFAULT 30000, max_history bigint DEFAULT 300)
    RETURNS TABLE (instance text, lock_token text, attempt_count integer, messages jsonb)
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_store_lock_for_inline_turn';
COMMENT ON FUNCTION duroxide_internal.store_lock_for_inline_turn(text, bigint, integer, bigint) IS
    'Internal: an activity worker''s inline lock of an instance in the caller''s transaction '
    '(no row when another holds it, it is missing or its history is too long).';

CREATE FUNCTION duroxide_internal.store_ack_orchestration_item(instance text, lock_token text,
    execution_id bigint DEFAULT 1, history_delta jsonb DEFAULT '[]', worker_items jsonb DEFAULT '[]',
    orchestrator_items jsonb DEFAULT '[]', status text DEFAULT 'Running', output text DEFAULT NULL,
    cancelled_activities jsonb DEFAULT '[]', orchestration_name text DEFAULT NULL,
    orchestration_version text DEFAULT NULL, parent_instance text DEFAULT NULL,
    owner_role oid DEFAULT NULL, error jsonb DEFAULT NULL)
    RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_store_ack_orchestration_item';
COMMENT ON FUNCTION duroxide_internal.store_ack_orchestration_item(text, text, bigint, jsonb, jsonb, jsonb, text, text, jsonb, text, text, text, oid, jsonb) IS
    'Internal: the store''s orchestration ack (a lost lock is SQLSTATE 55P03).';

CREATE FUNCTION duroxide_internal.store_abandon_orchestration_item(instance text, lock_token text,
    delay_ms bigint DEFAULT 0, ignore_attempt boolean DEFAULT false)
    RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_store_abandon_orchestration_item';
COMMENT ON FUNCTION duroxide_internal.store_abandon_orchestration_item(text, text, bigint, boolean) IS
    'Internal: the store''s orchestration abandon (a lost lock is SQLSTATE 55P03).';

CREATE FUNCTION duroxide_internal.store_renew_orchestration_item_lock(instance text, lock_token text,
    lock_timeout_ms integer)
    RETURNS boolean LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_store_renew_orchestration_item_lock';
COMMENT ON FUNCTION duroxide_internal.store_renew_orchestration_item_lock(text, text, integer) IS
    'Internal: extends an instance lock; false when it expired or is another''s.';

CREATE FUNCTION duroxide_internal.store_fetch_work_item(lease_owner bigint,
    lock_timeout_ms integer DEFAULT 30000, session_owner text DEFAULT NULL,
    session_lock_timeout_ms integer DEFAULT 30000, max_sessions integer DEFAULT 10,
    tag_filter text DEFAULT 'default')
    RETURNS TABLE (id bigint, lock_token text, attempt_count integer, work_item jsonb,
                   session_continued boolean, lost_session_race boolean)
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_store_fetch_work_item';
COMMENT ON FUNCTION duroxide_internal.store_fetch_work_item(bigint, integer, text, integer, integer, text) IS
    'Internal: the store''s activity fetch (without session_owner: no session activities; '
    'tag_filter spelled as duroxide.worker_tag_filter).';

CREATE FUNCTION duroxide_internal.store_fetch_work_items(lease_owner bigint,
    lock_timeout_ms integer DEFAULT 30000, session_owner text DEFAULT NULL,
    session_lock_timeout_ms integer DEFAULT 30000, max_sessions integer DEFAULT 10,
    tag_filter text DEFAULT 'default', max_items integer DEFAULT 8)
    RETURNS TABLE (id bigint, lock_token text, attempt_count integer, work_item jsonb,
                   session_continued boolean, owner_role text)
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_store_fetch_work_items';
COMMENT ON FUNCTION duroxide_internal.store_fetch_work_items(bigint, integer, text, integer, integer, text, integer) IS
    'Internal: the store''s batch activity fetch (up to max_items activities in one statement).';

CREATE FUNCTION duroxide_internal.store_delete_work_items(ids bigint[], tokens text[])
    RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_store_delete_work_items';
COMMENT ON FUNCTION duroxide_internal.store_delete_work_items(bigint[], text[]) IS
    'Internal: the deletes of several acks in one statement; fails unless every lease holds.';
CREATE FUNCTION duroxide_internal.store_release_work_items(ids bigint[], tokens text[])
    RETURNS bigint LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_store_release_work_items';
COMMENT ON FUNCTION duroxide_internal.store_release_work_items(bigint[], text[]) IS
    'Internal: gives fetched, unstarted activities back (attempt not counted); how many were held.';

CREATE FUNCTION duroxide_internal.store_ack_work_item(id bigint, lock_token text, work_item jsonb,
    completion jsonb, lease_owner bigint DEFAULT NULL, session_owner text DEFAULT NULL,
    session_lock_timeout_ms integer DEFAULT 30000)
    RETURNS void LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_store_ack_work_item';
COMMENT ON FUNCTION duroxide_internal.store_ack_work_item(bigint, text, jsonb, jsonb, bigint, text, integer) IS
    'Internal: the store''s activity ack (a lost lease is SQLSTATE 55P03).';

CREATE FUNCTION duroxide_internal.store_renew_work_item_lock(id bigint, lock_token text,
    lock_timeout_ms integer)
    RETURNS boolean LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_store_renew_work_item_lock';
COMMENT ON FUNCTION duroxide_internal.store_renew_work_item_lock(bigint, text, integer) IS
    'Internal: extends an activity lease; false when it is no longer this token''s.';

CREATE FUNCTION duroxide_internal.store_abandon_work_item(id bigint, lock_token text,
    delay_ms bigint DEFAULT 0, ignore_attempt boolean DEFAULT false)
    RETURNS boolean LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_store_abandon_work_item';
COMMENT ON FUNCTION duroxide_internal.store_abandon_work_item(bigint, text, bigint, boolean) IS
    'Internal: releases an activity lease; false when it was no longer this token''s.';

CREATE FUNCTION duroxide_internal.store_renew_sessions(lease_owner bigint, session_owner text,
    lock_timeout_ms integer, idle_timeout_ms integer)
    RETURNS SETOF text LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_store_renew_sessions';
COMMENT ON FUNCTION duroxide_internal.store_renew_sessions(bigint, text, integer, integer) IS
    'Internal: renews an owner''s busy sessions; returns the sessions it still owns.';

CREATE FUNCTION duroxide_internal.store_cleanup_orphaned_sessions()
    RETURNS bigint LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_store_cleanup_orphaned_sessions';
COMMENT ON FUNCTION duroxide_internal.store_cleanup_orphaned_sessions() IS
    'Internal: deletes expired or ownerless sessions without queued activities; returns how many.';

CREATE FUNCTION duroxide_internal.store_ms_until_next_visible(queue text)
    RETURNS bigint LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'duroxide_store_ms_until_next_visible';
COMMENT ON FUNCTION duroxide_internal.store_ms_until_next_visible(text) IS
    'Internal: milliseconds until the next delayed message of a queue (orchestrator, worker).';

-- duroxide_admin only (as every function of duroxide_internal).
DO $grants$
DECLARE f regprocedure;
BEGIN
    FOR f IN SELECT d.objid::regprocedure FROM pg_catalog.pg_depend d
              WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
                AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'duroxide_test')
                AND d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e' LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO duroxide_admin', f);
    END LOOP;
END
$grants$;
