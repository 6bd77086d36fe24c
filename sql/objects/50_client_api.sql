-- The client API: start orchestrations, raise events, cancel, read status and history.
-- The functions are SECURITY DEFINER (users hold no rights on the store's tables) with a fixed
-- search_path.
-- Per-role isolation (src/sql_api/access.hpp): whether the calling role may reach an instance
-- owned by "owner". Instances a caller may not reach read as NotFound.
CREATE OR REPLACE FUNCTION duroxide._may_access(owner oid) RETURNS boolean
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'duroxide_may_access';
REVOKE ALL ON FUNCTION duroxide._may_access(oid) FROM PUBLIC;

-- User values in messages: quoted, control characters escaped, cut to 64 bytes
-- (core/validation/message_quote.hpp). For every function's RAISE that shows a user value.
CREATE OR REPLACE FUNCTION duroxide._quote(value text) RETURNS text
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'duroxide_quote';
REVOKE ALL ON FUNCTION duroxide._quote(text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._quote(text) IS
    'Internal: a user value as it appears in messages: double-quoted, control characters escaped, cut to 64 bytes.';

-- The argument conventions of every function taking an instance id: NULL → 22004; empty,
-- longer than 256 bytes or with control characters (ids no start can create) → 22023.
CREATE OR REPLACE FUNCTION duroxide._check_instance_arg(instance text, what text DEFAULT 'instance id')
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF instance IS NULL THEN
        RAISE EXCEPTION '% must not be null', what USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF instance = '' THEN
        RAISE EXCEPTION '% must not be empty', what USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF octet_length(instance) > 256 THEN
        RAISE EXCEPTION '% % is too long (the limit is 256 bytes)', what, duroxide._quote(instance)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF instance ~ '[\x01-\x1f\x7f]' THEN
        RAISE EXCEPTION '% % must not contain control characters', what, duroxide._quote(instance)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._check_instance_arg(text, text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._check_instance_arg(text, text) IS
    'Internal: the instance id argument checks of the client functions (NULL: 22004; empty, over 256 bytes, control characters: 22023).';

-- Whether anything registered provides orchestration "name" (at exactly "version" when it is
-- not NULL). start_orchestration refuses what this denies unless allow_unregistered. The one
-- hook for new kinds of providers (e.g. SQL workflow definitions): extend its body with an
-- OR EXISTS (...) over their catalog.
CREATE OR REPLACE FUNCTION duroxide._is_orchestration_provided(name text, version text) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT EXISTS (SELECT 1 FROM duroxide.plugin_handlers h
                        WHERE h.kind = 'orchestration' AND h.name = _is_orchestration_provided.name
                          AND (_is_orchestration_provided.version IS NULL
                               OR h.version = _is_orchestration_provided.version))
            -- the built-in interpreter of SQL-authored workflows (docs/workflows.md)
            OR (_is_orchestration_provided.name = 'duroxide.workflow'
                AND coalesce(_is_orchestration_provided.version, '1.0.0') = '1.0.0');
    END;
REVOKE ALL ON FUNCTION duroxide._is_orchestration_provided(text, text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._is_orchestration_provided(text, text) IS
    'Internal: whether anything registered provides orchestration "name" (at "version" when not NULL); the hook new providers extend.';

-- For the HINT of an unregistered start: the first 10 orchestration names with their versions.
CREATE OR REPLACE FUNCTION duroxide._registered_orchestrations_summary() RETURNS text
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH names AS (
            SELECT h.name, string_agg(h.version, ', ' ORDER BY h.version) AS versions,
                   count(*) OVER () AS total, row_number() OVER (ORDER BY h.name) AS n
              FROM duroxide.plugin_handlers h WHERE h.kind = 'orchestration' GROUP BY h.name)
        SELECT coalesce(string_agg(duroxide._quote(names.name) || ' (' || names.versions || ')',
                                   ', ' ORDER BY names.name) FILTER (WHERE names.n <= 10)
                        || CASE WHEN max(names.total) > 10
                                THEN ' and ' || (max(names.total) - 10) || ' more' ELSE '' END,
                        'none')
          FROM names;
    END;
REVOKE ALL ON FUNCTION duroxide._registered_orchestrations_summary() FROM PUBLIC;
COMMENT ON FUNCTION duroxide._registered_orchestrations_summary() IS
    'Internal: the registered orchestrations and their versions, first 10, for the hint of an unregistered start.';

CREATE OR REPLACE FUNCTION duroxide.start_orchestration(instance text, name text, input text DEFAULT '',
                                             version text DEFAULT NULL,
                                             allow_unregistered boolean DEFAULT false)
    RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_start_orchestration';
COMMENT ON FUNCTION duroxide.start_orchestration(text, text, text, text, boolean) IS
    'Starts orchestration "name" as instance "instance" with "input" (pinned to "version" when '
    'given) when the calling transaction commits; returns true. Returns false, writing nothing, '
    'when the instance already exists with this orchestration; errors (23505) when the id is '
    'taken by another orchestration or another role, (42704) when nothing registered provides '
    'the orchestration unless allow_unregistered.';

CREATE OR REPLACE FUNCTION duroxide.start_orchestration(instance text, name text, input jsonb,
                                             version text DEFAULT NULL,
                                             allow_unregistered boolean DEFAULT false)
    RETURNS boolean
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT duroxide.start_orchestration(instance, name, input::text, version,
                                            allow_unregistered);
    END;
COMMENT ON FUNCTION duroxide.start_orchestration(text, text, jsonb, text, boolean) IS
    'start_orchestration with a jsonb input (passed to the orchestration as its JSON text).';

CREATE OR REPLACE FUNCTION duroxide.raise_event(instance text, event_name text, data text DEFAULT '')
    RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_raise_event';
COMMENT ON FUNCTION duroxide.raise_event(text, text, text) IS
    'Raises external event "event_name" for an instance: it completes the oldest wait for that '
    'name that the orchestration recorded before the event arrives (an event with no wait '
    'recorded yet is ignored; enqueue_event buffers). Returns whether the instance exists and '
    'the caller may reach it (false: nothing sent).';

CREATE OR REPLACE FUNCTION duroxide.enqueue_event(instance text, queue text, data text DEFAULT '')
    RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_enqueue_event';
COMMENT ON FUNCTION duroxide.enqueue_event(text, text, text) IS
    'Sends a message to queue "queue" of an instance: the orchestration takes messages with '
    'dequeue_event, first in first out, including those sent before it asked. Returns whether '
    'the instance exists (or its start is queued) and the caller may reach it (false: nothing '
    'sent).';

CREATE OR REPLACE FUNCTION duroxide.cancel_instance(instance text, reason text DEFAULT 'cancelled')
    RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_cancel_instance';
COMMENT ON FUNCTION duroxide.cancel_instance(text, text) IS
    'Cancels a running instance: it fails with "canceled: <reason>" and its open activities are '
    'withdrawn; a no-op for finished instances. Returns whether the instance exists and the '
    'caller may reach it (false: nothing sent).';

CREATE OR REPLACE FUNCTION duroxide.get_orchestration_status(instance text,
    OUT status text, OUT output text, OUT error jsonb, OUT custom_status text,
    OUT custom_status_version integer, OUT execution_id bigint, OUT orchestration_name text,
    OUT orchestration_version text, OUT created_at timestamptz, OUT updated_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    SELECT coalesce(CASE e.status WHEN 'ContinuedAsNew' THEN 'Running' ELSE e.status END,
                    'Running'),
           CASE WHEN e.status = 'Completed' THEN e.output END,
           e.error::jsonb, i.custom_status, coalesce(i.custom_status_version, 0),
           i.current_execution_id, i.orchestration_name, i.orchestration_version,
           i.created_at, i.updated_at
      INTO status, output, error, custom_status, custom_status_version, execution_id,
           orchestration_name, orchestration_version, created_at, updated_at
      FROM duroxide.instances i
      LEFT JOIN duroxide.executions e
             ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
     WHERE i.instance_id = get_orchestration_status.instance AND duroxide._may_access(i.owner_role);
    IF FOUND THEN
        RETURN;
    END IF;
    -- Started but not run yet (the dispatcher has not taken it, or its orchestration is not
    -- registered yet: allow_unregistered): Pending.
    SELECT 'Pending', 0, s.item->>'orchestration', s.item->>'version', s.created_at, s.created_at
      INTO status, custom_status_version, orchestration_name, orchestration_version, created_at,
           updated_at
      FROM (SELECT q.work_item::jsonb->'StartOrchestration' AS item, q.created_at, q.id
              FROM duroxide.orchestrator_queue q
             WHERE q.instance_id = get_orchestration_status.instance AND q.started_by IS NOT NULL
               AND duroxide._may_access(q.started_by)) s
     WHERE s.item IS NOT NULL
     ORDER BY s.id LIMIT 1;
    IF NOT FOUND THEN
        status := 'NotFound';
        custom_status_version := 0;
    END IF;
END
$fn$;
COMMENT ON FUNCTION duroxide.get_orchestration_status(text) IS
    'Status (NotFound, Pending, Running, Completed, Failed), output, error details, custom '
    'status and its version, current execution and timestamps of an instance. Pending: started '
    'but not run yet. An instance the caller may not reach (duroxide.isolate_instances) reads as '
    'NotFound.';

-- The waits sleep on the backend's latch; the dispatcher sets it when it commits a change of
-- the instance waited for, and only then (runtime/services/status_wait). Internal helpers,
-- callable only through the waits.
CREATE OR REPLACE FUNCTION duroxide._status_change_count(instance text) RETURNS bigint
    LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'duroxide_status_change_count_for';
CREATE OR REPLACE FUNCTION duroxide._await_status_change(instance text, seen bigint, timeout_ms integer)
    RETURNS void
    LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'duroxide_await_status_change_for';
CREATE OR REPLACE FUNCTION duroxide._written_by_this_transaction(row_xmin xid) RETURNS boolean
    LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'duroxide_written_by_this_transaction';
REVOKE ALL ON FUNCTION duroxide._status_change_count(text),
    duroxide._await_status_change(text, bigint, integer),
    duroxide._written_by_this_transaction(xid) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._written_by_this_transaction(xid) IS
    'Internal: whether a row version was written by this transaction or one of its subtransactions.';

-- Shared by the waits: argument checks, the uncommitted-start hint, and the isolation level.
CREATE OR REPLACE FUNCTION duroxide._check_wait(instance text, timeout interval) RETURNS void
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    IF timeout IS NULL THEN
        RAISE EXCEPTION 'timeout must not be null' USING ERRCODE = 'null_value_not_allowed';
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
    -- The dispatcher cannot see a start this transaction (or one of its subtransactions) has
    -- not committed yet. A start of an existing instance queues nothing, so it does not count.
    IF NOT EXISTS (SELECT 1 FROM duroxide.instances i WHERE i.instance_id = _check_wait.instance)
       AND EXISTS (SELECT 1 FROM duroxide.orchestrator_queue q
                    WHERE q.instance_id = _check_wait.instance AND q.started_by IS NOT NULL
                      AND duroxide._written_by_this_transaction(q.xmin)) THEN
        RAISE EXCEPTION 'instance % was started in this transaction, which has not committed',
            duroxide._quote(instance) USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Commit the transaction that starts the orchestration before waiting for it.';
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._check_wait(text, interval) FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide.wait_for_orchestration(instance text, timeout interval DEFAULT '30 s',
    OUT status text, OUT output text, OUT error jsonb, OUT custom_status text,
    OUT custom_status_version integer, OUT execution_id bigint, OUT orchestration_name text,
    OUT orchestration_version text, OUT created_at timestamptz, OUT updated_at timestamptz)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    deadline timestamptz;
    seen bigint;
BEGIN
    -- Every read of a wait runs in a subtransaction that is always rolled back (DXW00), which
    -- releases the relation locks it took: a wait must not hold them while it sleeps, or a
    -- DROP EXTENSION would wait for its timeout, with every worker queued behind the drop.
    BEGIN
        PERFORM duroxide._check_wait(instance, timeout);
        RAISE SQLSTATE 'DXW00';
    EXCEPTION WHEN SQLSTATE 'DXW00' THEN NULL;
    END;
    deadline := clock_timestamp() + timeout;
    LOOP
        seen := duroxide._status_change_count(instance);
        BEGIN
            SELECT * INTO status, output, error, custom_status, custom_status_version, execution_id,
                   orchestration_name, orchestration_version, created_at, updated_at
              FROM duroxide.get_orchestration_status(instance);
            RAISE SQLSTATE 'DXW00';
        EXCEPTION WHEN SQLSTATE 'DXW00' THEN NULL;
        END;
        EXIT WHEN status IN ('Completed', 'Failed');
        IF clock_timestamp() >= deadline THEN
            RAISE EXCEPTION 'timed out after % waiting for instance % (status %)', timeout,
                duroxide._quote(instance), status USING ERRCODE = 'query_canceled';
        END IF;
        -- Capped at a second: a safety net only, wake-ups come from the dispatcher's commit.
        PERFORM duroxide._await_status_change(instance, seen,
            least(1000, ceil(extract(epoch FROM deadline - clock_timestamp()) * 1000))::integer);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION duroxide.wait_for_orchestration(text, interval) IS
    'Waits until the instance is Completed or Failed and returns its status; errors after '
    '"timeout". Sleeps on a latch that the dispatcher sets when it commits a status change.';

CREATE OR REPLACE FUNCTION duroxide.wait_for_status_change(instance text, last_seen_version integer,
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
    -- Every read of a wait runs in a subtransaction that is always rolled back (DXW00), which
    -- releases the relation locks it took: a wait must not hold them while it sleeps, or a
    -- DROP EXTENSION would wait for its timeout, with every worker queued behind the drop.
    BEGIN
        PERFORM duroxide._check_wait(instance, timeout);
        RAISE SQLSTATE 'DXW00';
    EXCEPTION WHEN SQLSTATE 'DXW00' THEN NULL;
    END;
    IF last_seen_version IS NULL THEN
        RAISE EXCEPTION 'last_seen_version must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF last_seen_version < 0 THEN
        RAISE EXCEPTION 'last_seen_version must be 0 or more, not %', last_seen_version
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    deadline := clock_timestamp() + timeout;
    LOOP
        seen := duroxide._status_change_count(instance);
        BEGIN
            SELECT * INTO status, output, error, custom_status, custom_status_version, execution_id,
                   orchestration_name, orchestration_version, created_at, updated_at
              FROM duroxide.get_orchestration_status(instance);
            RAISE SQLSTATE 'DXW00';
        EXCEPTION WHEN SQLSTATE 'DXW00' THEN NULL;
        END;
        EXIT WHEN custom_status_version > last_seen_version OR status IN ('Completed', 'Failed');
        IF clock_timestamp() >= deadline THEN
            RAISE EXCEPTION 'timed out after % waiting for a custom status of instance % newer than version %',
                timeout, duroxide._quote(instance), last_seen_version USING ERRCODE = 'query_canceled';
        END IF;
        PERFORM duroxide._await_status_change(instance, seen,
            least(1000, ceil(extract(epoch FROM deadline - clock_timestamp()) * 1000))::integer);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION duroxide.wait_for_status_change(text, integer, interval) IS
    'Waits until the instance''s custom status version exceeds "last_seen_version" (or the '
    'instance ends) and returns its status; errors after "timeout".';

CREATE OR REPLACE FUNCTION duroxide.read_history(instance text, execution_id bigint DEFAULT NULL)
    RETURNS TABLE (event_id bigint, event_type text, event jsonb)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    IF read_history.execution_id < 1 THEN
        RAISE EXCEPTION 'execution_id must be at least 1, not %', read_history.execution_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    SELECT h.event_id, h.event_type,
           duroxide._event_json(h.instance_id, h.execution_id, h.event_id, h.event_type,
                                h.event_data)::jsonb
      FROM duroxide.history h
     WHERE h.instance_id = read_history.instance
       AND h.execution_id = coalesce(read_history.execution_id,
               (SELECT i.current_execution_id FROM duroxide.instances i
                 WHERE i.instance_id = read_history.instance))
       AND EXISTS (SELECT 1 FROM duroxide.instances i
                    WHERE i.instance_id = read_history.instance
                      AND duroxide._may_access(i.owner_role))
     ORDER BY h.event_id;
END
$fn$;
COMMENT ON FUNCTION duroxide.read_history(text, bigint) IS
    'The history events of an execution (the current one by default), oldest first.';

DO $grants$
DECLARE f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'duroxide.start_orchestration(text, text, text, text, boolean)',
        'duroxide.start_orchestration(text, text, jsonb, text, boolean)',
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
