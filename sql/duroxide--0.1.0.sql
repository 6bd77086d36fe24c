-- duroxide 0.1.0 install script, part 00 (built into sql/duroxide--0.1.0.sql by the Makefile).
-- Header, roles and schemas. Objects live in schema duroxide (created by CREATE EXTENSION
-- from the control file); internal helpers live in duroxide_internal. PUBLIC gets nothing.
\echo Use "CREATE EXTENSION duroxide" to load this file. \quit

-- Roles are cluster-wide and may already exist from another database's install.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'duroxide_admin') THEN
        CREATE ROLE duroxide_admin NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'duroxide_user') THEN
        CREATE ROLE duroxide_user NOLOGIN;
    END IF;
END
$roles$;

REVOKE ALL ON SCHEMA duroxide FROM PUBLIC;
GRANT USAGE ON SCHEMA duroxide TO duroxide_admin, duroxide_user;

CREATE SCHEMA duroxide_internal;
REVOKE ALL ON SCHEMA duroxide_internal FROM PUBLIC;
GRANT USAGE ON SCHEMA duroxide_internal TO duroxide_admin;
COMMENT ON SCHEMA duroxide_internal IS
    'duroxide internals (self-tests, store operations for the validation suite); not a stable API';
-- Version --------------------------------------------------------------------------------
CREATE FUNCTION duroxide.version() RETURNS text
    LANGUAGE c STRICT STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'duroxide_version';
COMMENT ON FUNCTION duroxide.version() IS 'Version of the loaded duroxide library.';
REVOKE ALL ON FUNCTION duroxide.version() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.version() TO duroxide_admin, duroxide_user;
-- The durable store (src/store): instances, executions, append-only history, the two queues
-- and the instance locks. Timestamps come from the database clock. Only the extension owner
-- touches these tables; users go through the SQL API.
--
-- Leases: a fetch marks what it takes with an unguessable lock_token, a locked_until and the
-- owner id of the worker process that holds it (locked_by). A lease is free again when it
-- expires or when its owner is no longer a live duroxide worker (duroxide._lock_holder_alive),
-- so the work of a worker that died is fetchable at once.
--
-- The queues' lease columns are not indexed and the tables leave room in each page, so taking
-- a lease is a HOT update: no new index entries for the fetches to step over.

CREATE TABLE duroxide.instances (
    instance_id            text PRIMARY KEY,
    orchestration_name     text NOT NULL,
    orchestration_version  text,
    current_execution_id   bigint NOT NULL DEFAULT 1,
    parent_instance_id     text,
    owner_role             oid,    -- the role that started it (children inherit it)
    custom_status          text,
    custom_status_version  integer NOT NULL DEFAULT 0,
    created_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at             timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ON duroxide.instances (parent_instance_id) WHERE parent_instance_id IS NOT NULL;

CREATE TABLE duroxide.executions (
    instance_id   text NOT NULL,
    execution_id  bigint NOT NULL,
    status        text NOT NULL DEFAULT 'Running'
                  CHECK (status IN ('Running', 'Completed', 'Failed', 'ContinuedAsNew')),
    output        text,
    error         text,   -- ErrorDetails JSON of a failed execution
    started_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    completed_at  timestamptz,
    PRIMARY KEY (instance_id, execution_id)
);

CREATE TABLE duroxide.history (
    instance_id   text NOT NULL,
    execution_id  bigint NOT NULL,
    event_id      bigint NOT NULL,
    event_type    text NOT NULL,
    event_data    text NOT NULL,   -- the Event as duroxide JSON
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (instance_id, execution_id, event_id)
);

-- Orchestrator queue: starts, completions, timers (visible_at = fire time), events, cancels.
CREATE TABLE duroxide.orchestrator_queue (
    id             bigserial PRIMARY KEY,
    instance_id    text NOT NULL,
    work_item      text NOT NULL,
    visible_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    attempt_count  integer NOT NULL DEFAULT 0 CHECK (attempt_count >= 0),
    lock_token     text,   -- the instance lock that claimed this message
    started_by     oid,    -- for a start: the role that becomes the instance's owner
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
) WITH (fillfactor = 70);
CREATE INDEX orchestrator_queue_visible ON duroxide.orchestrator_queue (visible_at, id);
CREATE INDEX orchestrator_queue_instance ON duroxide.orchestrator_queue (instance_id, id);

-- One row per instance whose messages a dispatcher is processing.
CREATE TABLE duroxide.instance_locks (
    instance_id   text PRIMARY KEY,
    lock_token    text NOT NULL,
    locked_until  timestamptz NOT NULL,
    locked_by     bigint NOT NULL,
    locked_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Worker queue: activities to run, with their identity for lock stealing (cancellation).
CREATE TABLE duroxide.worker_queue (
    id             bigserial PRIMARY KEY,
    work_item      text NOT NULL,
    instance_id    text NOT NULL,
    execution_id   bigint NOT NULL,
    activity_id    bigint NOT NULL,
    session_id     text,
    tag            text,
    visible_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    attempt_count  integer NOT NULL DEFAULT 0 CHECK (attempt_count >= 0),
    lock_token     text,
    locked_until   timestamptz,
    locked_by      bigint,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
) WITH (fillfactor = 70);
CREATE INDEX worker_queue_visible ON duroxide.worker_queue (visible_at, id);

CREATE INDEX worker_queue_activity ON duroxide.worker_queue (instance_id, execution_id, activity_id);

-- Whether `owner` is the owner id of a live duroxide worker of this database.
CREATE FUNCTION duroxide._lock_holder_alive(owner bigint) RETURNS boolean
    LANGUAGE c STRICT VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'duroxide_lock_holder_alive';
COMMENT ON FUNCTION duroxide._lock_holder_alive(bigint) IS
    'Internal: whether a lease owner id belongs to a live duroxide worker process.';

REVOKE ALL ON duroxide.instances, duroxide.executions, duroxide.history,
              duroxide.orchestrator_queue, duroxide.worker_queue, duroxide.instance_locks
    FROM PUBLIC;
REVOKE ALL ON FUNCTION duroxide._lock_holder_alive(bigint) FROM PUBLIC;
GRANT SELECT ON duroxide.instances, duroxide.executions, duroxide.history,
                duroxide.orchestrator_queue, duroxide.worker_queue, duroxide.instance_locks
    TO duroxide_admin;
-- Registration catalog: plugins (C++ shared libraries) and SQL functions registered as
-- activities. A handler name belongs to exactly one provider.

CREATE TABLE duroxide.plugins (
    name           text PRIMARY KEY,
    path           text NOT NULL,
    abi_version    integer NOT NULL,
    registered_by  regrole NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE duroxide.plugins IS 'Registered plugin libraries; workers load every one of them.';

CREATE TABLE duroxide.plugin_handlers (
    plugin   text NOT NULL REFERENCES duroxide.plugins (name) ON DELETE CASCADE,
    kind     text NOT NULL CHECK (kind IN ('orchestration', 'activity')),
    name     text NOT NULL,
    version  text NOT NULL DEFAULT '',  -- semver for orchestrations, '' for activities
    PRIMARY KEY (kind, name, version)
);
CREATE INDEX ON duroxide.plugin_handlers (plugin);
COMMENT ON TABLE duroxide.plugin_handlers IS 'What each registered plugin provides.';

REVOKE ALL ON duroxide.plugins, duroxide.plugin_handlers FROM PUBLIC;
GRANT SELECT ON duroxide.plugins, duroxide.plugin_handlers TO duroxide_admin, duroxide_user;
GRANT INSERT, DELETE ON duroxide.plugins, duroxide.plugin_handlers TO duroxide_admin;

CREATE TABLE duroxide.sql_activities (
    name           text PRIMARY KEY,
    function_oid   regprocedure NOT NULL,
    input_type     regtype NOT NULL,
    output_type    regtype NOT NULL,
    run_as         regrole NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE duroxide.sql_activities IS
    'SQL functions usable as activities; each runs as the role that registered it (run_as).';
REVOKE ALL ON duroxide.sql_activities FROM PUBLIC;
GRANT SELECT ON duroxide.sql_activities TO duroxide_admin, duroxide_user;
GRANT INSERT, DELETE ON duroxide.sql_activities TO duroxide_admin;

-- SECURITY INVOKER on purpose: the registering role is current_user, and it is the role the
-- activity will run as.
CREATE FUNCTION duroxide.register_sql_activity(name text, fn regprocedure) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    p pg_catalog.pg_proc%ROWTYPE;
BEGIN
    IF name IS NULL OR fn IS NULL THEN
        RAISE EXCEPTION 'name and fn must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF length(name) = 0 OR octet_length(name) > 256 OR name ~ '[[:cntrl:]]' THEN
        RAISE EXCEPTION 'invalid activity name "%"', name USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Names are 1 to 256 bytes without control characters.';
    END IF;
    IF starts_with(name, '__duroxide_syscall:') THEN
        RAISE EXCEPTION 'activity names starting with "__duroxide_syscall:" are reserved'
            USING ERRCODE = 'reserved_name';
    END IF;
    SELECT * INTO p FROM pg_catalog.pg_proc WHERE oid = fn;
    IF p.prokind <> 'f' OR p.proretset OR p.pronargs <> 1
       OR p.proargtypes[0] NOT IN ('text'::regtype, 'jsonb'::regtype)
       OR p.prorettype NOT IN ('text'::regtype, 'jsonb'::regtype) THEN
        RAISE EXCEPTION 'function % cannot be an activity', fn
            USING ERRCODE = 'invalid_function_definition',
            DETAIL = 'An SQL activity takes one text or jsonb argument and returns text or jsonb '
                  || '(not a set, not a procedure or aggregate).';
    END IF;
    IF NOT has_function_privilege(current_user, fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'permission denied to execute function %', fn
            USING ERRCODE = 'insufficient_privilege',
            HINT = 'The activity runs as the role that registers it, which must be able to call it.';
    END IF;
    IF EXISTS (SELECT 1 FROM duroxide.plugin_handlers h
                WHERE h.kind = 'activity' AND h.name = register_sql_activity.name) THEN
        RAISE EXCEPTION 'activity "%" is already provided by a plugin', name
            USING ERRCODE = 'duplicate_object';
    END IF;
    INSERT INTO duroxide.sql_activities (name, function_oid, input_type, output_type, run_as)
    VALUES (name, fn, p.proargtypes[0], p.prorettype, current_user::regrole);
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'activity "%" is already registered', name USING ERRCODE = 'duplicate_object',
        HINT = 'Use duroxide.unregister_sql_activity first to replace it.';
END
$fn$;
COMMENT ON FUNCTION duroxide.register_sql_activity(text, regprocedure) IS
    'Makes a SQL function (one text or jsonb argument, text or jsonb result) the activity "name". '
    'It runs as the registering role, in the same transaction as its completion.';
REVOKE ALL ON FUNCTION duroxide.register_sql_activity(text, regprocedure) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.register_sql_activity(text, regprocedure) TO duroxide_admin;

CREATE FUNCTION duroxide.unregister_sql_activity(name text) RETURNS boolean
    LANGUAGE sql VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH gone AS (DELETE FROM duroxide.sql_activities a WHERE a.name = unregister_sql_activity.name
                      RETURNING 1)
        SELECT count(*) > 0 FROM gone;
    END;
COMMENT ON FUNCTION duroxide.unregister_sql_activity(text) IS
    'Removes the SQL activity "name"; returns whether it existed.';
REVOKE ALL ON FUNCTION duroxide.unregister_sql_activity(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.unregister_sql_activity(text) TO duroxide_admin;

CREATE FUNCTION duroxide.register_plugin(name text) RETURNS integer
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_register_plugin';
COMMENT ON FUNCTION duroxide.register_plugin(text) IS
    'Loads the plugin library "name" (from $libdir or duroxide.plugin_directories), checks its '
    'ABI version and records the orchestrations and activities it provides; returns how many. '
    'Loading a plugin runs its code in the server: duroxide_admin only.';
REVOKE ALL ON FUNCTION duroxide.register_plugin(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.register_plugin(text) TO duroxide_admin;

CREATE FUNCTION duroxide.unregister_plugin(name text) RETURNS boolean
    LANGUAGE sql VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH gone AS (DELETE FROM duroxide.plugins p WHERE p.name = unregister_plugin.name
                      RETURNING 1)
        SELECT count(*) > 0 FROM gone;
    END;
COMMENT ON FUNCTION duroxide.unregister_plugin(text) IS
    'Forgets the plugin "name" and its handlers; returns whether it was registered.';
REVOKE ALL ON FUNCTION duroxide.unregister_plugin(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.unregister_plugin(text) TO duroxide_admin;

CREATE VIEW duroxide.registered_handlers AS
SELECT h.kind, h.name, NULLIF(h.version, '') AS version, 'plugin'::text AS provider_type,
       h.plugin AS provider
  FROM duroxide.plugin_handlers h
UNION ALL
SELECT 'activity', a.name, NULL, 'sql', a.function_oid::text
  FROM duroxide.sql_activities a;
COMMENT ON VIEW duroxide.registered_handlers IS
    'Every orchestration and activity the runtime can run, with its version and provider '
    '(a plugin, or an SQL function).';
REVOKE ALL ON duroxide.registered_handlers FROM PUBLIC;
GRANT SELECT ON duroxide.registered_handlers TO duroxide_admin, duroxide_user;
-- Observability: what every duroxide process is doing (docs/operations.md).
CREATE FUNCTION duroxide.get_runtime_status(
    OUT role text, OUT slot integer, OUT pid integer, OUT database oid, OUT state text,
    OUT state_since timestamptz, OUT current_work text, OUT items_processed bigint,
    OUT last_error text)
    RETURNS SETOF record
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_runtime_status';
COMMENT ON FUNCTION duroxide.get_runtime_status() IS
    'Rows of the duroxide.runtime_status view, read from shared memory (database as an oid).';
REVOKE ALL ON FUNCTION duroxide.get_runtime_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.get_runtime_status() TO duroxide_admin, duroxide_user;

CREATE VIEW duroxide.runtime_status AS
SELECT s.role, s.slot, s.pid, d.datname AS database, s.state, s.state_since, s.current_work,
       s.items_processed, s.last_error
  FROM duroxide.get_runtime_status() s
  LEFT JOIN pg_catalog.pg_database d ON d.oid = s.database;
COMMENT ON VIEW duroxide.runtime_status IS
    'Every duroxide process of the server: launcher, dispatchers and activity workers, with '
    'their state, current work, items processed and last error.';
REVOKE ALL ON duroxide.runtime_status FROM PUBLIC;
GRANT SELECT ON duroxide.runtime_status TO duroxide_admin, duroxide_user;

CREATE FUNCTION duroxide.get_metrics(OUT metric text, OUT bucket text, OUT value bigint)
    RETURNS SETOF record
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_get_metrics';
COMMENT ON FUNCTION duroxide.get_metrics() IS
    'Server-wide duroxide counters and duration histograms (microsecond buckets) since start-up '
    'or the last duroxide.reset_metrics().';
REVOKE ALL ON FUNCTION duroxide.get_metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.get_metrics() TO duroxide_admin, duroxide_user;

CREATE VIEW duroxide.metrics AS SELECT metric, bucket, value FROM duroxide.get_metrics();
COMMENT ON VIEW duroxide.metrics IS
    'Counters (orchestrations, turns, activities by outcome, lock renewals and steals, wake-ups '
    'vs safety-net polls, resident cache) and turn/activity duration histograms.';
REVOKE ALL ON duroxide.metrics FROM PUBLIC;
GRANT SELECT ON duroxide.metrics TO duroxide_admin, duroxide_user;

CREATE FUNCTION duroxide.reset_metrics() RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_reset_metrics';
COMMENT ON FUNCTION duroxide.reset_metrics() IS 'Sets every duroxide counter and histogram to zero.';
REVOKE ALL ON FUNCTION duroxide.reset_metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.reset_metrics() TO duroxide_admin;
-- The client API: start orchestrations, raise events, cancel, read status and history.
-- The functions are SECURITY DEFINER (users hold no rights on the store's tables) with a fixed
-- search_path.

-- Per-role isolation (src/sql_api/access.hpp): whether the calling role may reach an instance
-- owned by "owner". Instances a caller may not reach read as NotFound.
CREATE FUNCTION duroxide._may_access(owner oid) RETURNS boolean
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'duroxide_may_access';
REVOKE ALL ON FUNCTION duroxide._may_access(oid) FROM PUBLIC;

CREATE FUNCTION duroxide.start_orchestration(instance text, name text, input text DEFAULT '',
                                             version text DEFAULT NULL) RETURNS void
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_start_orchestration';
COMMENT ON FUNCTION duroxide.start_orchestration(text, text, text, text) IS
    'Starts orchestration "name" as instance "instance" with "input" (pinned to "version" when '
    'given) when the calling transaction commits. Starting an existing instance is a no-op.';

CREATE FUNCTION duroxide.start_orchestration(instance text, name text, input jsonb,
                                             version text DEFAULT NULL) RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT duroxide.start_orchestration(instance, name, input::text, version);
    END;
COMMENT ON FUNCTION duroxide.start_orchestration(text, text, jsonb, text) IS
    'start_orchestration with a jsonb input (passed to the orchestration as its JSON text).';

CREATE FUNCTION duroxide.raise_event(instance text, event_name text, data text DEFAULT '')
    RETURNS void
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_raise_event';
COMMENT ON FUNCTION duroxide.raise_event(text, text, text) IS
    'Raises external event "event_name" for an instance: it completes the oldest wait for that '
    'name that the orchestration recorded before the event arrives.';

CREATE FUNCTION duroxide.enqueue_event(instance text, queue text, data text DEFAULT '')
    RETURNS void
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_enqueue_event';
COMMENT ON FUNCTION duroxide.enqueue_event(text, text, text) IS
    'Sends a message to queue "queue" of an instance: the orchestration takes messages with '
    'dequeue_event, first in first out, including those sent before it asked. Messages for an '
    'instance that does not exist yet are dropped.';

CREATE FUNCTION duroxide.cancel_instance(instance text, reason text DEFAULT 'cancelled')
    RETURNS void
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_cancel_instance';
COMMENT ON FUNCTION duroxide.cancel_instance(text, text) IS
    'Cancels a running instance: it fails with "canceled: <reason>" and its open activities are '
    'withdrawn. A no-op for finished instances.';

CREATE FUNCTION duroxide.get_orchestration_status(instance text,
    OUT status text, OUT output text, OUT error jsonb, OUT custom_status text,
    OUT custom_status_version integer, OUT execution_id bigint, OUT orchestration_name text,
    OUT orchestration_version text, OUT created_at timestamptz, OUT updated_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT coalesce(CASE e.status WHEN 'ContinuedAsNew' THEN 'Running' ELSE e.status END,
                        'NotFound'),
               CASE WHEN e.status = 'Completed' THEN e.output END,
               e.error::jsonb, i.custom_status, coalesce(i.custom_status_version, 0),
               i.current_execution_id, i.orchestration_name, i.orchestration_version,
               i.created_at, i.updated_at
          FROM (SELECT get_orchestration_status.instance AS id) q
          LEFT JOIN duroxide.instances i
                 ON i.instance_id = q.id AND duroxide._may_access(i.owner_role)
          LEFT JOIN duroxide.executions e
                 ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id;
    END;
COMMENT ON FUNCTION duroxide.get_orchestration_status(text) IS
    'Status (NotFound, Running, Completed, Failed), output, error details, custom status and '
    'its version, current execution and timestamps of an instance. An instance the caller may '
    'not reach (duroxide.isolate_instances) reads as NotFound.';

-- The waits sleep on the backend's latch; the dispatcher sets it when it commits a status
-- change (runtime/status_wait). Internal helpers, callable only through the waits.
CREATE FUNCTION duroxide._status_change_count() RETURNS bigint
    LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'duroxide_status_change_count';
CREATE FUNCTION duroxide._await_status_change(seen bigint, timeout_ms integer) RETURNS void
    LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'duroxide_await_status_change';
REVOKE ALL ON FUNCTION duroxide._status_change_count(), duroxide._await_status_change(bigint, integer)
    FROM PUBLIC;

-- Shared by the waits: argument checks, the uncommitted-start hint, and the isolation level.
CREATE FUNCTION duroxide._check_wait(instance text, timeout interval) RETURNS void
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF instance IS NULL OR timeout IS NULL THEN
        RAISE EXCEPTION 'instance and timeout must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF timeout <= interval '0' OR timeout > interval '1 day' THEN
        RAISE EXCEPTION 'timeout must be positive and at most 1 day'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'waiting needs READ COMMITTED isolation, not %',
            current_setting('transaction_isolation')
            USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'A REPEATABLE READ or SERIALIZABLE snapshot never sees the orchestration progress.';
    END IF;
    -- The dispatcher cannot see a start this transaction has not committed yet.
    IF pg_current_xact_id_if_assigned() IS NOT NULL AND EXISTS (
           SELECT 1 FROM duroxide.orchestrator_queue q
            WHERE q.instance_id = _check_wait.instance
              AND q.xmin::text = (pg_current_xact_id_if_assigned()::text::bigint % 4294967296)::text) THEN
        RAISE EXCEPTION 'instance "%" was started in this transaction, which has not committed',
            instance USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Commit the transaction that starts the orchestration before waiting for it.';
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._check_wait(text, interval) FROM PUBLIC;

CREATE FUNCTION duroxide.wait_for_orchestration(instance text, timeout interval DEFAULT '30 s',
    OUT status text, OUT output text, OUT error jsonb, OUT custom_status text,
    OUT custom_status_version integer, OUT execution_id bigint, OUT orchestration_name text,
    OUT orchestration_version text, OUT created_at timestamptz, OUT updated_at timestamptz)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    deadline timestamptz;
    seen bigint;
BEGIN
    PERFORM duroxide._check_wait(instance, timeout);
    deadline := clock_timestamp() + timeout;
    LOOP
        seen := duroxide._status_change_count();
        SELECT * INTO status, output, error, custom_status, custom_status_version, execution_id,
               orchestration_name, orchestration_version, created_at, updated_at
          FROM duroxide.get_orchestration_status(instance);
        EXIT WHEN status IN ('Completed', 'Failed');
        IF clock_timestamp() >= deadline THEN
            RAISE EXCEPTION 'timed out after % waiting for instance "%" (status %)', timeout,
                instance, status USING ERRCODE = 'query_canceled';
        END IF;
        -- Capped at a second: a safety net only, wake-ups come from the dispatcher's commit.
        PERFORM duroxide._await_status_change(seen,
            least(1000, ceil(extract(epoch FROM deadline - clock_timestamp()) * 1000))::integer);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION duroxide.wait_for_orchestration(text, interval) IS
    'Waits until the instance is Completed or Failed and returns its status; errors after '
    '"timeout". Sleeps on a latch that the dispatcher sets when it commits a status change.';

CREATE FUNCTION duroxide.wait_for_status_change(instance text, last_seen_version integer,
    timeout interval DEFAULT '30 s',
    OUT status text, OUT output text, OUT error jsonb, OUT custom_status text,
    OUT custom_status_version integer, OUT execution_id bigint, OUT orchestration_name text,
    OUT orchestration_version text, OUT created_at timestamptz, OUT updated_at timestamptz)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    deadline timestamptz;
    seen bigint;
BEGIN
    PERFORM duroxide._check_wait(instance, timeout);
    IF last_seen_version IS NULL OR last_seen_version < 0 THEN
        RAISE EXCEPTION 'last_seen_version must be 0 or more' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    deadline := clock_timestamp() + timeout;
    LOOP
        seen := duroxide._status_change_count();
        SELECT * INTO status, output, error, custom_status, custom_status_version, execution_id,
               orchestration_name, orchestration_version, created_at, updated_at
          FROM duroxide.get_orchestration_status(instance);
        EXIT WHEN custom_status_version > last_seen_version OR status IN ('Completed', 'Failed');
        IF clock_timestamp() >= deadline THEN
            RAISE EXCEPTION 'timed out after % waiting for a custom status of instance "%" newer than version %',
                timeout, instance, last_seen_version USING ERRCODE = 'query_canceled';
        END IF;
        PERFORM duroxide._await_status_change(seen,
            least(1000, ceil(extract(epoch FROM deadline - clock_timestamp()) * 1000))::integer);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION duroxide.wait_for_status_change(text, integer, interval) IS
    'Waits until the instance''s custom status version exceeds "last_seen_version" (or the '
    'instance ends) and returns its status; errors after "timeout".';

CREATE FUNCTION duroxide.read_history(instance text, execution_id bigint DEFAULT NULL)
    RETURNS TABLE (event_id bigint, event_type text, event jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT h.event_id, h.event_type, h.event_data::jsonb
          FROM duroxide.history h
         WHERE h.instance_id = read_history.instance
           AND h.execution_id = coalesce(read_history.execution_id,
                   (SELECT i.current_execution_id FROM duroxide.instances i
                     WHERE i.instance_id = read_history.instance))
           AND EXISTS (SELECT 1 FROM duroxide.instances i
                        WHERE i.instance_id = read_history.instance
                          AND duroxide._may_access(i.owner_role))
         ORDER BY h.event_id;
    END;
COMMENT ON FUNCTION duroxide.read_history(text, bigint) IS
    'The history events of an execution (the current one by default), oldest first.';

DO $grants$
DECLARE f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'duroxide.start_orchestration(text, text, text, text)',
        'duroxide.start_orchestration(text, text, jsonb, text)',
        'duroxide.raise_event(text, text, text)', 'duroxide.cancel_instance(text, text)',
        'duroxide.enqueue_event(text, text, text)',
        'duroxide.get_orchestration_status(text)', 'duroxide.wait_for_orchestration(text, interval)',
        'duroxide.wait_for_status_change(text, integer, interval)',
        'duroxide.read_history(text, bigint)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO duroxide_admin, duroxide_user', f);
    END LOOP;
END
$grants$;
-- Management: list and inspect instances, executions and trees; delete and prune.
-- Reads are for both roles and honour per-role isolation (duroxide._may_access); deletes and
-- prunes are for duroxide_admin. All are SECURITY DEFINER with a fixed search_path.

CREATE INDEX instances_created ON duroxide.instances (created_at, instance_id);

-- The status a client sees: a continued-as-new execution is the instance still running.
CREATE FUNCTION duroxide._client_status(execution_status text) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN CASE execution_status WHEN 'ContinuedAsNew' THEN 'Running'
                                 ELSE coalesce(execution_status, 'Running') END;

CREATE FUNCTION duroxide.list_instances(status text DEFAULT NULL, name text DEFAULT NULL,
    created_after timestamptz DEFAULT NULL, created_before timestamptz DEFAULT NULL,
    root_only boolean DEFAULT false, max_rows integer DEFAULT 100, after_cursor text DEFAULT NULL)
    RETURNS TABLE (instance_id text, orchestration_name text, orchestration_version text,
                   instance_status text, execution_id bigint, parent_instance_id text,
                   created_at timestamptz, updated_at timestamptz, next_cursor text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    cursor_us bigint;
    cursor_id text;
BEGIN
    IF max_rows IS NULL OR max_rows < 1 OR max_rows > 10000 THEN
        RAISE EXCEPTION 'max_rows must be between 1 and 10000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF status IS NOT NULL AND status NOT IN ('Running', 'Completed', 'Failed') THEN
        RAISE EXCEPTION 'status must be Running, Completed or Failed, not "%"', status
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF after_cursor IS NOT NULL THEN
        IF after_cursor !~ '^[0-9]+:' THEN
            RAISE EXCEPTION 'malformed cursor "%"', after_cursor
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Pass the next_cursor of the last row of the previous page.';
        END IF;
        cursor_us := split_part(after_cursor, ':', 1)::bigint;
        cursor_id := substr(after_cursor, length(split_part(after_cursor, ':', 1)) + 2);
    END IF;
    -- Keyset pagination on (created_at, instance_id): stable while instances are added.
    RETURN QUERY
    SELECT i.instance_id, i.orchestration_name, i.orchestration_version,
           duroxide._client_status(e.status), i.current_execution_id, i.parent_instance_id,
           i.created_at, i.updated_at,
           (extract(epoch FROM i.created_at) * 1000000)::bigint::text || ':' || i.instance_id
      FROM duroxide.instances i
      LEFT JOIN duroxide.executions e
             ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
     WHERE duroxide._may_access(i.owner_role)
       AND (after_cursor IS NULL
            OR (i.created_at, i.instance_id) > (to_timestamp(cursor_us / 1000000.0), cursor_id))
       AND (list_instances.status IS NULL OR duroxide._client_status(e.status) = list_instances.status)
       AND (list_instances.name IS NULL OR i.orchestration_name = list_instances.name)
       AND (created_after IS NULL OR i.created_at > created_after)
       AND (created_before IS NULL OR i.created_at < created_before)
       AND (NOT root_only OR i.parent_instance_id IS NULL)
     ORDER BY i.created_at, i.instance_id
     LIMIT max_rows;
END
$fn$;
COMMENT ON FUNCTION duroxide.list_instances(text, text, timestamptz, timestamptz, boolean, integer, text) IS
    'Instances the caller may reach, oldest first, filtered by status, name, creation time and '
    'roots only; at most max_rows. Pass the next_cursor of the last row to get the next page.';

CREATE FUNCTION duroxide.get_instance_info(instance text)
    RETURNS TABLE (instance_id text, orchestration_name text, orchestration_version text,
                   status text, execution_id bigint, executions bigint, parent_instance_id text,
                   owner text, custom_status text, custom_status_version integer,
                   created_at timestamptz, updated_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT i.instance_id, i.orchestration_name, i.orchestration_version,
               duroxide._client_status(e.status), i.current_execution_id,
               (SELECT count(*) FROM duroxide.executions x WHERE x.instance_id = i.instance_id),
               i.parent_instance_id, i.owner_role::regrole::text, i.custom_status,
               i.custom_status_version, i.created_at, i.updated_at
          FROM duroxide.instances i
          LEFT JOIN duroxide.executions e
                 ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
         WHERE i.instance_id = get_instance_info.instance AND duroxide._may_access(i.owner_role);
    END;
COMMENT ON FUNCTION duroxide.get_instance_info(text) IS
    'One row about an instance (no row when it does not exist or the caller may not reach it).';

CREATE FUNCTION duroxide.list_executions(instance text)
    RETURNS TABLE (execution_id bigint, status text, output text, started_at timestamptz,
                   completed_at timestamptz, events bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT e.execution_id, e.status, e.output, e.started_at, e.completed_at,
               (SELECT count(*) FROM duroxide.history h
                 WHERE h.instance_id = e.instance_id AND h.execution_id = e.execution_id)
          FROM duroxide.executions e
          JOIN duroxide.instances i ON i.instance_id = e.instance_id
         WHERE e.instance_id = list_executions.instance AND duroxide._may_access(i.owner_role)
         ORDER BY e.execution_id;
    END;
COMMENT ON FUNCTION duroxide.list_executions(text) IS
    'The executions of an instance (one more per continue-as-new), with status and event count.';

CREATE FUNCTION duroxide.get_instance_tree(instance text)
    RETURNS TABLE (instance_id text, parent_instance_id text, depth integer, status text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH RECURSIVE tree AS (
            SELECT i.instance_id, i.parent_instance_id, 0 AS depth
              FROM duroxide.instances i
             WHERE i.instance_id = get_instance_tree.instance
               AND duroxide._may_access(i.owner_role)
            UNION ALL
            SELECT c.instance_id, c.parent_instance_id, t.depth + 1
              FROM duroxide.instances c JOIN tree t ON c.parent_instance_id = t.instance_id
        )
        SELECT t.instance_id, t.parent_instance_id, t.depth, duroxide._client_status(e.status)
          FROM tree t
          JOIN duroxide.instances i ON i.instance_id = t.instance_id
          LEFT JOIN duroxide.executions e
                 ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
         ORDER BY t.depth, t.instance_id;
    END;
COMMENT ON FUNCTION duroxide.get_instance_tree(text) IS
    'An instance and all its sub-orchestrations, depth first level by level.';

CREATE FUNCTION duroxide.list_children(instance text) RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT c.instance_id FROM duroxide.instances c
          JOIN duroxide.instances p ON p.instance_id = c.parent_instance_id
         WHERE c.parent_instance_id = list_children.instance AND duroxide._may_access(p.owner_role)
         ORDER BY c.instance_id;
    END;
COMMENT ON FUNCTION duroxide.list_children(text) IS 'The direct sub-orchestrations of an instance.';

-- Deletes the trees rooted at `roots` (all their rows, queued messages, activities and locks)
-- and returns what it deleted. Deleting a lock makes a turn in flight fail to record, so a
-- running instance is not recreated by its own dispatcher.
CREATE FUNCTION duroxide._delete_trees(roots text[],
    OUT instances bigint, OUT executions bigint, OUT events bigint, OUT queue_messages bigint)
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    ids text[];
    n bigint;
BEGIN
    WITH RECURSIVE tree AS (
        SELECT unnest(roots) AS instance_id
        UNION
        SELECT c.instance_id FROM duroxide.instances c JOIN tree t ON c.parent_instance_id = t.instance_id
    )
    SELECT array_agg(instance_id) INTO ids FROM tree;
    DELETE FROM duroxide.instance_locks WHERE instance_id = ANY (ids);
    DELETE FROM duroxide.orchestrator_queue WHERE instance_id = ANY (ids);
    GET DIAGNOSTICS queue_messages = ROW_COUNT;
    DELETE FROM duroxide.worker_queue WHERE instance_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT;
    queue_messages := queue_messages + n;
    DELETE FROM duroxide.history WHERE instance_id = ANY (ids);
    GET DIAGNOSTICS events = ROW_COUNT;
    DELETE FROM duroxide.executions WHERE instance_id = ANY (ids);
    GET DIAGNOSTICS executions = ROW_COUNT;
    DELETE FROM duroxide.instances WHERE instance_id = ANY (ids);
    GET DIAGNOSTICS instances = ROW_COUNT;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._delete_trees(text[]) FROM PUBLIC;

CREATE FUNCTION duroxide.delete_instance(instance text, force boolean DEFAULT false,
    OUT instances bigint, OUT executions bigint, OUT events bigint, OUT queue_messages bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    target duroxide.instances%ROWTYPE;
    running text;
BEGIN
    IF instance IS NULL OR force IS NULL THEN
        RAISE EXCEPTION 'instance and force must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO target FROM duroxide.instances i WHERE i.instance_id = delete_instance.instance
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance "%" does not exist', instance USING ERRCODE = 'no_data_found';
    END IF;
    IF target.parent_instance_id IS NOT NULL THEN
        RAISE EXCEPTION 'instance "%" is a sub-orchestration of "%"', instance, target.parent_instance_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Delete its root instance: the whole tree goes with it.';
    END IF;
    WITH RECURSIVE tree AS (
        SELECT target.instance_id AS instance_id
        UNION
        SELECT c.instance_id FROM duroxide.instances c JOIN tree t ON c.parent_instance_id = t.instance_id
    )
    SELECT t.instance_id INTO running FROM tree t
      JOIN duroxide.instances i ON i.instance_id = t.instance_id
      JOIN duroxide.executions e ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
     WHERE e.status IN ('Running', 'ContinuedAsNew') LIMIT 1;
    IF running IS NOT NULL AND NOT force THEN
        RAISE EXCEPTION 'instance "%" is still running', running
            USING ERRCODE = 'object_in_use',
                  HINT = 'Cancel it and wait for it to end, or pass force => true.';
    END IF;
    SELECT * INTO instances, executions, events, queue_messages
      FROM duroxide._delete_trees(ARRAY[target.instance_id]);
END
$fn$;
COMMENT ON FUNCTION duroxide.delete_instance(text, boolean) IS
    'Deletes a root instance with all its sub-orchestrations, history and queued work, in one '
    'transaction; refuses a running tree unless force (which also withdraws its running '
    'activities). Returns what was deleted.';

CREATE FUNCTION duroxide.delete_instances(completed_before timestamptz DEFAULT NULL,
    instance_ids text[] DEFAULT NULL, max_instances integer DEFAULT 1000,
    OUT instances bigint, OUT executions bigint, OUT events bigint, OUT queue_messages bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    roots text[];
BEGIN
    IF completed_before IS NULL AND instance_ids IS NULL THEN
        RAISE EXCEPTION 'give completed_before, instance_ids or both'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF max_instances IS NULL OR max_instances < 1 THEN
        RAISE EXCEPTION 'max_instances must be positive' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Terminal roots only; running ones (and children) are skipped, not errors.
    SELECT array_agg(i.instance_id) INTO roots FROM (
        SELECT i.instance_id FROM duroxide.instances i
          JOIN duroxide.executions e
            ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
         WHERE i.parent_instance_id IS NULL AND e.status IN ('Completed', 'Failed')
           AND (completed_before IS NULL OR e.completed_at < completed_before)
           AND (instance_ids IS NULL OR i.instance_id = ANY (instance_ids))
         ORDER BY e.completed_at, i.instance_id
         LIMIT max_instances
           FOR UPDATE OF i SKIP LOCKED) i;
    SELECT * INTO instances, executions, events, queue_messages
      FROM duroxide._delete_trees(coalesce(roots, '{}'));
END
$fn$;
COMMENT ON FUNCTION duroxide.delete_instances(timestamptz, text[], integer) IS
    'Deletes up to max_instances finished root instances (completed before completed_before '
    'and/or among instance_ids) with their trees; running instances are skipped.';

CREATE FUNCTION duroxide.prune_executions(instance text, keep_last integer DEFAULT 1,
    completed_before timestamptz DEFAULT NULL, OUT executions bigint, OUT events bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    current_id bigint;
    doomed bigint[];
BEGIN
    IF keep_last IS NULL OR keep_last < 1 THEN
        RAISE EXCEPTION 'keep_last must be at least 1 (the current execution is always kept)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT i.current_execution_id INTO current_id FROM duroxide.instances i
     WHERE i.instance_id = prune_executions.instance FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance "%" does not exist', instance USING ERRCODE = 'no_data_found';
    END IF;
    SELECT array_agg(e.execution_id) INTO doomed
      FROM duroxide.executions e
     WHERE e.instance_id = prune_executions.instance
       AND e.execution_id <> current_id
       AND e.execution_id <= current_id - keep_last
       AND (completed_before IS NULL OR e.completed_at < completed_before
            OR (e.completed_at IS NULL AND e.status = 'ContinuedAsNew'));
    DELETE FROM duroxide.history h
     WHERE h.instance_id = prune_executions.instance AND h.execution_id = ANY (coalesce(doomed, '{}'));
    GET DIAGNOSTICS events = ROW_COUNT;
    DELETE FROM duroxide.executions e
     WHERE e.instance_id = prune_executions.instance AND e.execution_id = ANY (coalesce(doomed, '{}'));
    GET DIAGNOSTICS executions = ROW_COUNT;
END
$fn$;
COMMENT ON FUNCTION duroxide.prune_executions(text, integer, timestamptz) IS
    'Deletes the history of old executions of an instance (continue-as-new leaves one per '
    'iteration), keeping the last keep_last, the current one always.';

CREATE VIEW duroxide.queue_depths AS
SELECT 'orchestrator'::text AS queue,
       count(*) FILTER (WHERE visible_at <= clock_timestamp() AND lock_token IS NULL) AS ready,
       count(*) FILTER (WHERE visible_at > clock_timestamp()) AS delayed,
       count(*) FILTER (WHERE lock_token IS NOT NULL) AS in_progress
  FROM duroxide.orchestrator_queue
UNION ALL
SELECT 'worker',
       count(*) FILTER (WHERE visible_at <= clock_timestamp()
                          AND (lock_token IS NULL OR locked_until <= clock_timestamp())),
       count(*) FILTER (WHERE visible_at > clock_timestamp()),
       count(*) FILTER (WHERE lock_token IS NOT NULL AND locked_until > clock_timestamp())
  FROM duroxide.worker_queue;
COMMENT ON VIEW duroxide.queue_depths IS
    'Messages per queue: ready to run, delayed (timers, backoff) and being processed.';

CREATE VIEW duroxide.instance_counts AS
SELECT CASE e.status WHEN 'ContinuedAsNew' THEN 'Running' ELSE coalesce(e.status, 'Running') END
           AS status,
       count(*) AS instances
  FROM duroxide.instances i
  LEFT JOIN duroxide.executions e
         ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
 GROUP BY 1;
COMMENT ON VIEW duroxide.instance_counts IS 'Instances by status (all roles).';

DO $grants$
DECLARE f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'duroxide.list_instances(text, text, timestamptz, timestamptz, boolean, integer, text)',
        'duroxide.get_instance_info(text)', 'duroxide.list_executions(text)',
        'duroxide.get_instance_tree(text)', 'duroxide.list_children(text)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO duroxide_admin, duroxide_user', f);
    END LOOP;
    FOREACH f IN ARRAY ARRAY[
        'duroxide.delete_instance(text, boolean)',
        'duroxide.delete_instances(timestamptz, text[], integer)',
        'duroxide.prune_executions(text, integer, timestamptz)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO duroxide_admin', f);
    END LOOP;
END
$grants$;
REVOKE ALL ON FUNCTION duroxide._client_status(text) FROM PUBLIC;
REVOKE ALL ON duroxide.queue_depths, duroxide.instance_counts FROM PUBLIC;
GRANT SELECT ON duroxide.queue_depths, duroxide.instance_counts TO duroxide_admin;
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
-- Start this database's workers when CREATE EXTENSION commits.
CREATE FUNCTION duroxide_internal.activate_database() RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_activate_database';
COMMENT ON FUNCTION duroxide_internal.activate_database() IS
    'Internal: ask the launcher to start this database''s workers when the transaction commits.';
SELECT duroxide_internal.activate_database();
-- Last piece: every internal function is for duroxide_admin only, whichever piece defined it.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA duroxide_internal FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA duroxide_internal TO duroxide_admin;
