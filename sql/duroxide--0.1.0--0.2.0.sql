-- duroxide upgrade 0.1.0 -> 0.2.0 (ALTER EXTENSION duroxide UPDATE). Whatever the install
-- pieces in sql/install/ gained since 0.1.0, this script does to a 0.1.0 database; the TAP test
-- test/tap/005_upgrade.pl checks that both give the same schema.
\echo Use "ALTER EXTENSION duroxide UPDATE" to load this file. \quit

-- runtime_status gains the sessions each activity worker owns.
DROP VIEW duroxide.runtime_status;
DROP FUNCTION duroxide.get_runtime_status();
CREATE FUNCTION duroxide.get_runtime_status(
    OUT role text, OUT slot integer, OUT pid integer, OUT database oid, OUT state text,
    OUT state_since timestamptz, OUT current_work text, OUT items_processed bigint,
    OUT last_error text, OUT sessions integer)
    RETURNS SETOF record
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_runtime_status';
COMMENT ON FUNCTION duroxide.get_runtime_status() IS
    'Rows of the duroxide.runtime_status view, read from shared memory (database as an oid).';
REVOKE ALL ON FUNCTION duroxide.get_runtime_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.get_runtime_status() TO duroxide_admin, duroxide_user;

CREATE VIEW duroxide.runtime_status AS
SELECT s.role, s.slot, s.pid, d.datname AS database, s.state, s.state_since, s.current_work,
       s.items_processed, s.last_error, s.sessions
  FROM duroxide.get_runtime_status() s
  LEFT JOIN pg_catalog.pg_database d ON d.oid = s.database;
COMMENT ON VIEW duroxide.runtime_status IS
    'Every duroxide process of the server: launcher, dispatchers and activity workers, with '
    'their state, current work, items processed, last error and (activity workers) the '
    'number of sessions they own.';
REVOKE ALL ON duroxide.runtime_status FROM PUBLIC;
GRANT SELECT ON duroxide.runtime_status TO duroxide_admin, duroxide_user;

-- Activity sessions: which activity worker owns each session (docs/user-guide.md, Sessions).
-- A session is pinned to its owner while its lease runs; the owner renews the leases of its
-- busy sessions, idle ones run out. Owners are stable ids (node id, database, worker index);
-- a session whose owner has no live process is claimable at once, and a worker restarted in
-- the owner's slot has its sessions back; locked_by is the process that claimed it.
CREATE TABLE duroxide.session_locks (
    session_id        text PRIMARY KEY,
    owner_id          text NOT NULL,
    locked_by         bigint NOT NULL,
    locked_until      timestamptz NOT NULL,
    last_activity_at  timestamptz NOT NULL,
    claimed_at        timestamptz NOT NULL DEFAULT clock_timestamp()
) WITH (fillfactor = 70);
CREATE INDEX session_locks_owner ON duroxide.session_locks (owner_id);
-- Session activities only: orphan cleanup and the pending counts look items up by session.
CREATE INDEX worker_queue_session ON duroxide.worker_queue (session_id)
    WHERE session_id IS NOT NULL;
REVOKE ALL ON duroxide.session_locks FROM PUBLIC;
GRANT SELECT ON duroxide.session_locks TO duroxide_admin;

CREATE FUNCTION duroxide._session_owner_pid(owner text) RETURNS integer
    LANGUAGE c STRICT VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'duroxide_session_owner_pid';
COMMENT ON FUNCTION duroxide._session_owner_pid(text) IS
    'Internal: the pid of the live activity worker with session owner id "owner", or NULL.';
REVOKE ALL ON FUNCTION duroxide._session_owner_pid(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide._session_owner_pid(text) TO duroxide_admin, duroxide_user;

CREATE FUNCTION duroxide._sessions_released(released bigint) RETURNS bigint
    LANGUAGE c STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_sessions_released';
COMMENT ON FUNCTION duroxide._sessions_released(bigint) IS
    'Internal: when "released" > 0, tells the activity workers at commit that sessions were '
    'released (owners drop their session state); returns "released".';
REVOKE ALL ON FUNCTION duroxide._sessions_released(bigint) FROM PUBLIC;

CREATE VIEW duroxide.sessions AS
SELECT s.session_id, s.owner_id, o.pid AS worker_pid,
       s.claimed_at, s.locked_until, s.last_activity_at,
       (SELECT count(*) FROM duroxide.worker_queue w WHERE w.session_id = s.session_id)
           AS pending_items,
       CASE WHEN o.pid IS NULL THEN 'orphaned'
            WHEN s.locked_until <= clock_timestamp() THEN 'expired'
            WHEN s.last_activity_at <= clock_timestamp()
                 - current_setting('duroxide.session_idle_timeout')::interval THEN 'idle'
            ELSE 'active' END AS session_state
  FROM duroxide.session_locks s,
       LATERAL (SELECT duroxide._session_owner_pid(s.owner_id) AS pid) o;
COMMENT ON VIEW duroxide.sessions IS
    'Activity sessions: owner (stable worker id) and its pid while alive, lease, last activity, '
    'queued activities, and state (active, idle: no longer renewed, expired, orphaned: owner '
    'gone; expired and orphaned sessions are claimable by any worker).';
REVOKE ALL ON duroxide.sessions FROM PUBLIC;
GRANT SELECT ON duroxide.sessions TO duroxide_admin, duroxide_user;

CREATE FUNCTION duroxide.release_session(session_id text) RETURNS boolean
    LANGUAGE sql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH released AS (
            DELETE FROM duroxide.session_locks l
             WHERE l.session_id = release_session.session_id RETURNING 1)
        SELECT duroxide._sessions_released((SELECT count(*) FROM released)) > 0;
    END;
COMMENT ON FUNCTION duroxide.release_session(text) IS
    'Unpins a session: its next activity may go to any worker, and the owner drops its session '
    'state. Returns false when the session is not pinned.';
REVOKE ALL ON FUNCTION duroxide.release_session(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.release_session(text) TO duroxide_admin;

CREATE FUNCTION duroxide.release_worker_sessions(owner_id text) RETURNS bigint
    LANGUAGE sql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH released AS (
            DELETE FROM duroxide.session_locks l
             WHERE l.owner_id = release_worker_sessions.owner_id RETURNING 1)
        SELECT duroxide._sessions_released((SELECT count(*) FROM released));
    END;
COMMENT ON FUNCTION duroxide.release_worker_sessions(text) IS
    'Unpins every session of a worker (owner_id as in duroxide.sessions); returns how many.';
REVOKE ALL ON FUNCTION duroxide.release_worker_sessions(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.release_worker_sessions(text) TO duroxide_admin;

-- Backups: pg_dump saves the durable state with the database (instances, histories, queues,
-- registrations); leases (instance_locks, session_locks) are not state and are not saved.
SELECT pg_catalog.pg_extension_config_dump('duroxide.instances', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.executions', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.history', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.orchestrator_queue', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.orchestrator_queue_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.worker_queue', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.worker_queue_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.plugins', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.plugin_handlers', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.sql_activities', '');

-- Management (issue 8): get_execution_info, and prune_executions_bulk; prune_executions and
-- its bulk form share one rule (duroxide._prunable).
-- An instance the caller may not reach reads as not existing, as in get_instance_info.
CREATE FUNCTION duroxide.get_execution_info(instance text, execution bigint)
    RETURNS TABLE (execution_id bigint, status text, output text, started_at timestamptz,
                   completed_at timestamptz, event_count bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF instance IS NULL OR execution IS NULL THEN
        RAISE EXCEPTION 'instance and execution must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF execution < 1 THEN
        RAISE EXCEPTION 'execution must be at least 1, not %', execution
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM FROM duroxide.instances i
     WHERE i.instance_id = get_execution_info.instance AND duroxide._may_access(i.owner_role);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance "%" does not exist', instance USING ERRCODE = 'no_data_found';
    END IF;
    RETURN QUERY
    SELECT e.execution_id, e.status, e.output, e.started_at, e.completed_at,
           (SELECT count(*) FROM duroxide.history h
             WHERE h.instance_id = e.instance_id AND h.execution_id = e.execution_id)
      FROM duroxide.executions e
     WHERE e.instance_id = get_execution_info.instance AND e.execution_id = execution;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance "%" has no execution %', instance, execution
            USING ERRCODE = 'no_data_found',
                  HINT = 'duroxide.list_executions lists the executions it has (pruned ones are gone).';
    END IF;
END
$fn$;
COMMENT ON FUNCTION duroxide.get_execution_info(text, bigint) IS
    'One execution of an instance: status, output, start and end (NULL while it runs) and its '
    'number of history events. Errors when the instance or the execution does not exist.';

-- The rule of prune_executions: an execution goes when it is at least keep_last executions
-- before the current one (so never the current one) and, with completed_before, it ended
-- before that (a continued-as-new execution recorded by 0.1.0, which kept no end time for it,
-- counts as ended).
CREATE FUNCTION duroxide._prunable(execution_id bigint, status text, completed_at timestamptz,
                                   current_id bigint, keep_last integer,
                                   completed_before timestamptz) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    RETURN execution_id <> current_id AND execution_id <= current_id - keep_last
       AND (completed_before IS NULL OR completed_at < completed_before
            OR (completed_at IS NULL AND status = 'ContinuedAsNew'));

CREATE OR REPLACE FUNCTION duroxide.prune_executions(instance text, keep_last integer DEFAULT 1,
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
       AND duroxide._prunable(e.execution_id, e.status, e.completed_at, current_id, keep_last,
                              completed_before);
    DELETE FROM duroxide.history h
     WHERE h.instance_id = prune_executions.instance AND h.execution_id = ANY (coalesce(doomed, '{}'));
    GET DIAGNOSTICS events = ROW_COUNT;
    DELETE FROM duroxide.executions e
     WHERE e.instance_id = prune_executions.instance AND e.execution_id = ANY (coalesce(doomed, '{}'));
    GET DIAGNOSTICS executions = ROW_COUNT;
END
$fn$;

-- The bulk form: every matching instance, running ones included (only old executions go).
-- Only instances with something to prune count against max_instances, so calling it again
-- goes on with the next ones. An instance whose row is being written at that moment (a turn
-- being recorded, another prune) is skipped, not waited for.
CREATE FUNCTION duroxide.prune_executions_bulk(instance_ids text[] DEFAULT NULL,
    instances_completed_before timestamptz DEFAULT NULL, max_instances integer DEFAULT 1000,
    keep_last integer DEFAULT 1, completed_before timestamptz DEFAULT NULL,
    OUT instances bigint, OUT executions bigint, OUT events bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    target text;
    pruned record;
BEGIN
    IF max_instances IS NULL OR max_instances < 1 THEN
        RAISE EXCEPTION 'max_instances must be positive' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF keep_last IS NULL OR keep_last < 1 THEN
        RAISE EXCEPTION 'keep_last must be at least 1 (the current execution is always kept)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    instances := 0; executions := 0; events := 0;
    FOR target IN
        SELECT i.instance_id FROM duroxide.instances i
          JOIN duroxide.executions c
            ON c.instance_id = i.instance_id AND c.execution_id = i.current_execution_id
         WHERE (instance_ids IS NULL OR i.instance_id = ANY (instance_ids))
           AND (instances_completed_before IS NULL
                OR (c.status IN ('Completed', 'Failed') AND c.completed_at < instances_completed_before))
           AND EXISTS (SELECT FROM duroxide.executions e
                        WHERE e.instance_id = i.instance_id
                          AND duroxide._prunable(e.execution_id, e.status, e.completed_at,
                                                 i.current_execution_id, keep_last, completed_before))
         ORDER BY i.instance_id
         LIMIT max_instances
           FOR UPDATE OF i SKIP LOCKED
    LOOP
        SELECT * INTO pruned FROM duroxide.prune_executions(target, keep_last, completed_before);
        instances := instances + 1;
        executions := executions + pruned.executions;
        events := events + pruned.events;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION duroxide.prune_executions_bulk(text[], timestamptz, integer, integer, timestamptz) IS
    'prune_executions(keep_last, completed_before) for up to max_instances instances (among '
    'instance_ids, and/or finished before instances_completed_before; running ones included) '
    'that have old executions to delete. Returns the instances pruned and what was deleted.';
REVOKE ALL ON FUNCTION duroxide._prunable(bigint, text, timestamptz, bigint, integer, timestamptz)
    FROM PUBLIC;
REVOKE ALL ON FUNCTION duroxide.get_execution_info(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.get_execution_info(text, bigint) TO duroxide_admin, duroxide_user;
REVOKE ALL ON FUNCTION duroxide.prune_executions_bulk(text[], timestamptz, integer, integer, timestamptz)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.prune_executions_bulk(text[], timestamptz, integer, integer, timestamptz)
    TO duroxide_admin;

-- System metrics (reference 3.6) next to queue_depths and instance_counts.
CREATE VIEW duroxide.system_metrics AS
SELECT (SELECT count(*) FROM duroxide.instances) AS total_instances,
       (SELECT count(*) FROM duroxide.executions) AS total_executions,
       coalesce(sum(c.instances) FILTER (WHERE c.status = 'Running'), 0)::bigint AS running_instances,
       coalesce(sum(c.instances) FILTER (WHERE c.status = 'Completed'), 0)::bigint AS completed_instances,
       coalesce(sum(c.instances) FILTER (WHERE c.status = 'Failed'), 0)::bigint AS failed_instances,
       (SELECT count(*) FROM duroxide.history) AS total_events
  FROM duroxide.instance_counts c;
COMMENT ON VIEW duroxide.system_metrics IS
    'Totals of the store (all roles): instances, executions, instances by status, history '
    'events. Counts every row: meant for an occasional look, not for polling.';
REVOKE ALL ON duroxide.system_metrics FROM PUBLIC;
GRANT SELECT ON duroxide.system_metrics TO duroxide_admin;

-- Security review (issue 8): register_plugin runs its catalog queries with a fixed search_path,
-- like the other registration functions, whatever the caller's path holds.
ALTER FUNCTION duroxide.register_plugin(text) SET search_path = pg_catalog, pg_temp;

-- Activity tags: fetches of workers with a tag filter.
CREATE INDEX worker_queue_tag ON duroxide.worker_queue (tag, visible_at, id) WHERE tag IS NOT NULL;

-- duroxide.runtime_status shows each activity worker's tag filter.
DROP VIEW duroxide.runtime_status;
DROP FUNCTION duroxide.get_runtime_status();
CREATE FUNCTION duroxide.get_runtime_status(
    OUT role text, OUT slot integer, OUT pid integer, OUT database oid, OUT state text,
    OUT state_since timestamptz, OUT current_work text, OUT items_processed bigint,
    OUT last_error text, OUT sessions integer, OUT tag_filter text)
    RETURNS SETOF record
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_runtime_status';
COMMENT ON FUNCTION duroxide.get_runtime_status() IS
    'Rows of the duroxide.runtime_status view, read from shared memory (database as an oid).';
REVOKE ALL ON FUNCTION duroxide.get_runtime_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.get_runtime_status() TO duroxide_admin, duroxide_user;

CREATE VIEW duroxide.runtime_status AS
SELECT s.role, s.slot, s.pid, d.datname AS database, s.state, s.state_since, s.current_work,
       s.items_processed, s.last_error, s.sessions, s.tag_filter
  FROM duroxide.get_runtime_status() s
  LEFT JOIN pg_catalog.pg_database d ON d.oid = s.database;
COMMENT ON VIEW duroxide.runtime_status IS
    'Every duroxide process of the server: launcher, dispatchers and activity workers, with '
    'their state, current work, items processed, last error and (activity workers) the '
    'number of sessions they own and the tag filter they fetch with.';
REVOKE ALL ON duroxide.runtime_status FROM PUBLIC;
GRANT SELECT ON duroxide.runtime_status TO duroxide_admin, duroxide_user;

-- Version policies: which version of an orchestration new instances get when no version is
-- given (at start, for sub-orchestrations and continue-as-new without one). Rows are updated,
-- never deleted (NULL = latest), so workers see every change by max(set_at).
CREATE TABLE duroxide.version_policies (
    orchestration  text PRIMARY KEY,
    version        text,
    set_by         regrole NOT NULL,
    set_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE duroxide.version_policies IS
    'Version policies set with duroxide.set_version_policy (version NULL: the latest registered).';
REVOKE ALL ON duroxide.version_policies FROM PUBLIC;
GRANT SELECT ON duroxide.version_policies TO duroxide_admin, duroxide_user;

CREATE FUNCTION duroxide.set_version_policy(orchestration text, version text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    registered text;
BEGIN
    IF orchestration IS NULL THEN
        RAISE EXCEPTION 'orchestration must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT string_agg(h.version, ', ' ORDER BY string_to_array(h.version, '.')::int[])
      INTO registered
      FROM duroxide.plugin_handlers h
     WHERE h.kind = 'orchestration' AND h.name = set_version_policy.orchestration;
    IF registered IS NULL THEN
        RAISE EXCEPTION 'orchestration "%" is not registered', orchestration
            USING ERRCODE = 'undefined_object';
    END IF;
    IF version IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM duroxide.plugin_handlers h
             WHERE h.kind = 'orchestration' AND h.name = set_version_policy.orchestration
               AND h.version = set_version_policy.version) THEN
        RAISE EXCEPTION 'version "%" of orchestration "%" is not registered', version, orchestration
            USING ERRCODE = 'undefined_object', DETAIL = 'Registered versions: ' || registered || '.';
    END IF;
    INSERT INTO duroxide.version_policies AS p (orchestration, version, set_by)
    VALUES (orchestration, version, duroxide._calling_role())
    ON CONFLICT ON CONSTRAINT version_policies_pkey DO UPDATE
       SET version = excluded.version, set_by = excluded.set_by, set_at = clock_timestamp();
END
$fn$;
COMMENT ON FUNCTION duroxide.set_version_policy(text, text) IS
    'Sets which version of orchestration "orchestration" new instances get when none is given: '
    'version (a registered one), or NULL for the latest. Running dispatchers apply it at their '
    'next fetch; running instances keep their version.';
REVOKE ALL ON FUNCTION duroxide.set_version_policy(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.set_version_policy(text, text) TO duroxide_admin;

CREATE OR REPLACE VIEW duroxide.registered_handlers AS
SELECT h.kind, h.name, NULLIF(h.version, '') AS version, 'plugin'::text AS provider_type,
       h.plugin AS provider,
       CASE WHEN h.kind = 'orchestration' THEN coalesce(p.version, 'latest') END
           AS version_policy,
       CASE WHEN h.kind = 'orchestration' THEN h.version = coalesce(p.version,
           (SELECT l.version FROM duroxide.plugin_handlers l
             WHERE l.kind = 'orchestration' AND l.name = h.name
             ORDER BY string_to_array(l.version, '.')::int[] DESC LIMIT 1)) END
           AS default_version
  FROM duroxide.plugin_handlers h
  LEFT JOIN duroxide.version_policies p ON h.kind = 'orchestration' AND p.orchestration = h.name
UNION ALL
SELECT 'activity', a.name, NULL, 'sql', a.function_oid::text, NULL, NULL
  FROM duroxide.sql_activities a;
COMMENT ON VIEW duroxide.registered_handlers IS
    'Every orchestration and activity the runtime can run, with its version and provider '
    '(a plugin, or an SQL function); for orchestrations, the version policy (latest, or the '
    'exact version set by duroxide.set_version_policy) and whether this is the version new '
    'instances get when none is given (default_version).';
REVOKE ALL ON duroxide.registered_handlers FROM PUBLIC;
GRANT SELECT ON duroxide.registered_handlers TO duroxide_admin, duroxide_user;
SELECT pg_catalog.pg_extension_config_dump('duroxide.version_policies', '');
-- Durable key-value store (sql/install/55_kv.sql), and its tables in backups.
CREATE TABLE duroxide.kv_store (
    instance_id         text NOT NULL REFERENCES duroxide.instances ON DELETE CASCADE,
    key                 text NOT NULL,
    value               text NOT NULL,
    last_updated_at_ms  bigint NOT NULL DEFAULT 0,   -- Unix ms of the write (the turn's clock)
    PRIMARY KEY (instance_id, key)
);

CREATE TABLE duroxide.kv_delta (
    instance_id         text NOT NULL REFERENCES duroxide.instances ON DELETE CASCADE,
    key                 text NOT NULL,
    value               text,                        -- NULL: cleared (a tombstone)
    last_updated_at_ms  bigint NOT NULL,
    PRIMARY KEY (instance_id, key)
);

REVOKE ALL ON duroxide.kv_store, duroxide.kv_delta FROM PUBLIC;
GRANT SELECT ON duroxide.kv_store, duroxide.kv_delta TO duroxide_admin;

-- The live view of an instance's keys; empty for an instance the caller may not reach.
CREATE FUNCTION duroxide._kv_live(instance text)
    RETURNS TABLE (key text, value text, last_updated_at_ms bigint)
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT coalesce(d.key, s.key),
               CASE WHEN d.key IS NOT NULL THEN d.value ELSE s.value END,
               coalesce(d.last_updated_at_ms, s.last_updated_at_ms)
          FROM (SELECT * FROM duroxide.kv_store WHERE instance_id = _kv_live.instance) s
          FULL JOIN (SELECT * FROM duroxide.kv_delta WHERE instance_id = _kv_live.instance) d
            ON d.key = s.key
         WHERE (d.key IS NULL OR d.value IS NOT NULL)
           AND EXISTS (SELECT 1 FROM duroxide.instances i
                        WHERE i.instance_id = _kv_live.instance
                          AND duroxide._may_access(i.owner_role));
    END;
REVOKE ALL ON FUNCTION duroxide._kv_live(text) FROM PUBLIC;

CREATE FUNCTION duroxide._check_kv_arguments(instance text, key text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF instance IS NULL THEN
        RAISE EXCEPTION 'instance must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF key IS NULL THEN
        RAISE EXCEPTION 'key must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF instance = '' THEN
        RAISE EXCEPTION 'instance id must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._check_kv_arguments(text, text) FROM PUBLIC;

CREATE FUNCTION duroxide.get_kv_value(instance text, key text) RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_kv_arguments(instance, key);
    RETURN (SELECT l.value FROM duroxide._kv_live(instance) l WHERE l.key = get_kv_value.key);
END
$fn$;
COMMENT ON FUNCTION duroxide.get_kv_value(text, text) IS
    'The value of "key" in an instance''s durable key-value store, as of the last recorded '
    'turn; NULL when the key is not set (or cleared), the instance does not exist or the caller '
    'may not reach it.';

CREATE FUNCTION duroxide.get_kv_values(instance text)
    RETURNS TABLE (key text, value text, updated_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_kv_arguments(instance, '');
    RETURN QUERY SELECT l.key, l.value, to_timestamp(l.last_updated_at_ms / 1000.0)
                   FROM duroxide._kv_live(instance) l ORDER BY l.key;
END
$fn$;
COMMENT ON FUNCTION duroxide.get_kv_values(text) IS
    'Every key of an instance''s durable key-value store with its value and the time it was '
    'written, ordered by key; no rows for an unknown or unreachable instance.';

CREATE FUNCTION duroxide.wait_for_kv_value(instance text, key text,
                                           timeout interval DEFAULT '30 s') RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    deadline timestamptz;
    seen bigint;
    found text;
BEGIN
    PERFORM duroxide._check_kv_arguments(instance, key);
    PERFORM duroxide._check_wait(instance, timeout);
    deadline := clock_timestamp() + timeout;
    LOOP
        seen := duroxide._status_change_count();
        found := duroxide.get_kv_value(instance, key);
        EXIT WHEN found IS NOT NULL;
        IF clock_timestamp() >= deadline THEN
            RAISE EXCEPTION 'timed out after % waiting for key "%" of instance "%"', timeout, key,
                instance USING ERRCODE = 'query_canceled';
        END IF;
        PERFORM duroxide._await_status_change(seen,
            least(1000, ceil(extract(epoch FROM deadline - clock_timestamp()) * 1000))::integer);
    END LOOP;
    RETURN found;
END
$fn$;
COMMENT ON FUNCTION duroxide.wait_for_kv_value(text, text, interval) IS
    'Waits until "key" is set in an instance''s durable key-value store and returns its value; '
    'errors after "timeout". Sleeps on the latch that the dispatcher sets when it commits a '
    'turn that changes a status or a key.';

CREATE FUNCTION duroxide.get_orchestration_stats(instance text,
    OUT history_event_count bigint, OUT history_size_bytes bigint,
    OUT queue_pending_count bigint, OUT kv_user_key_count bigint,
    OUT kv_total_value_bytes bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    current bigint;
BEGIN
    PERFORM duroxide._check_kv_arguments(instance, '');
    SELECT i.current_execution_id INTO current FROM duroxide.instances i
     WHERE i.instance_id = get_orchestration_stats.instance AND duroxide._may_access(i.owner_role);
    IF NOT FOUND THEN
        RETURN; -- all NULL: NotFound, as get_orchestration_status reports it
    END IF;
    SELECT count(*), coalesce(sum(octet_length(h.event_data)), 0),
           coalesce(max(jsonb_array_length(h.event_data::jsonb -> 'carry_forward_events'))
                        FILTER (WHERE h.event_id = 1), 0)
      INTO history_event_count, history_size_bytes, queue_pending_count
      FROM duroxide.history h
     WHERE h.instance_id = get_orchestration_stats.instance AND h.execution_id = current;
    SELECT count(*), coalesce(sum(octet_length(l.value)), 0)
      INTO kv_user_key_count, kv_total_value_bytes
      FROM duroxide._kv_live(instance) l;
END
$fn$;
COMMENT ON FUNCTION duroxide.get_orchestration_stats(text) IS
    'Sizes of an instance''s current execution: history events and bytes, queue messages '
    'carried into it by continue-as-new, and its key-value store''s keys and value bytes. All '
    'NULL for an unknown instance or one the caller may not reach.';

DO $grants$
DECLARE f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'duroxide.get_kv_value(text, text)', 'duroxide.get_kv_values(text)',
        'duroxide.wait_for_kv_value(text, text, interval)',
        'duroxide.get_orchestration_stats(text)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO duroxide_admin, duroxide_user', f);
    END LOOP;
END
$grants$;
SELECT pg_catalog.pg_extension_config_dump('duroxide.kv_store', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.kv_delta', '');
-- Store probes (internal): see sql/install/92_internal_store_probes.sql.
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
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA duroxide_internal FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA duroxide_internal TO duroxide_admin;

-- Internal helpers of the client and management functions: what each is for, like every
-- other function of the extension (not part of the API; not granted to the roles).
COMMENT ON FUNCTION duroxide._may_access(oid) IS
    'Internal: whether the calling role may reach an instance owned by "owner" (instance isolation).';
COMMENT ON FUNCTION duroxide._status_change_count() IS
    'Internal: the count of committed status changes, read by the waits before they sleep.';
COMMENT ON FUNCTION duroxide._await_status_change(bigint, integer) IS
    'Internal: sleeps on the backend''s latch until the status change count passes "seen" or "timeout_ms" pass.';
COMMENT ON FUNCTION duroxide._check_wait(text, interval) IS
    'Internal: the argument, isolation level and uncommitted-start checks of the waits.';
COMMENT ON FUNCTION duroxide._kv_live(text) IS
    'Internal: the live view of an instance''s keys (kv_store merged with kv_delta); empty when the caller may not reach it.';
COMMENT ON FUNCTION duroxide._check_kv_arguments(text, text) IS
    'Internal: the argument checks of the key-value client functions.';
COMMENT ON FUNCTION duroxide._client_status(text) IS
    'Internal: the status a client sees for an execution status (ContinuedAsNew reads as Running).';
COMMENT ON FUNCTION duroxide._delete_trees(text[]) IS
    'Internal: deletes the instance trees rooted at "roots" with their queued work and locks; returns the counts.';
COMMENT ON FUNCTION duroxide._prunable(bigint, text, timestamptz, bigint, integer, timestamptz) IS
    'Internal: the rule of prune_executions, whether an execution may be pruned.';

-- Each execution records the duroxide library that started it; a dispatcher skips executions
-- of a newer library (after a downgrade they wait for it instead of running under older code).
ALTER TABLE duroxide.executions ADD COLUMN duroxide_version_num integer;

-- The role that called a SECURITY DEFINER function (set_version_policy records it).
CREATE FUNCTION duroxide._calling_role() RETURNS regrole
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'duroxide_calling_role';
REVOKE ALL ON FUNCTION duroxide._calling_role() FROM PUBLIC;
COMMENT ON FUNCTION duroxide._calling_role() IS
    'Internal: the role a SECURITY DEFINER function was called by (the session''s current role).';
