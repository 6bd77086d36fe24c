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
