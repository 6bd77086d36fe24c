-- The durable key-value store of orchestrations (src/store/kv_store.cpp) and its client API.
-- kv_store holds the values as the last finished execution of an instance left them: the
-- snapshot an execution starts from. kv_delta holds the current execution's changes, written
-- by every turn (value NULL: cleared) and merged into kv_store when the execution completes,
-- fails or continues as new. Clients read the live view: kv_delta over kv_store. Deleting an
-- instance deletes its keys (foreign keys); pruning executions leaves them alone.
REVOKE ALL ON duroxide.kv_store, duroxide.kv_delta FROM PUBLIC;
GRANT SELECT ON duroxide.kv_store, duroxide.kv_delta TO duroxide_admin;

-- The live view of an instance's keys; empty for an instance the caller may not reach.
CREATE OR REPLACE FUNCTION duroxide._kv_live(instance text)
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

CREATE OR REPLACE FUNCTION duroxide._check_kv_arguments(instance text, key text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    IF key IS NULL THEN
        RAISE EXCEPTION 'key must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._check_kv_arguments(text, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide.get_kv_value(instance text, key text) RETURNS text
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

CREATE OR REPLACE FUNCTION duroxide.get_kv_values(instance text)
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

CREATE OR REPLACE FUNCTION duroxide.wait_for_kv_value(instance text, key text,
                                           timeout interval DEFAULT '30 s') RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    deadline timestamptz;
    seen bigint;
    found text;
BEGIN
    PERFORM duroxide._check_kv_arguments(instance, key);
    -- Reads in a subtransaction always rolled back (DXW00): its relation locks are released,
    -- so the sleeps hold none (see wait_for_orchestration).
    BEGIN
        PERFORM duroxide._check_wait(instance, timeout);
        RAISE SQLSTATE 'DXW00';
    EXCEPTION WHEN SQLSTATE 'DXW00' THEN NULL;
    END;
    deadline := clock_timestamp() + timeout;
    LOOP
        seen := duroxide._status_change_count(instance);
        BEGIN
            found := duroxide.get_kv_value(instance, key);
            RAISE SQLSTATE 'DXW00';
        EXCEPTION WHEN SQLSTATE 'DXW00' THEN NULL;
        END;
        EXIT WHEN found IS NOT NULL;
        IF clock_timestamp() >= deadline THEN
            RAISE EXCEPTION 'timed out after % waiting for key % of instance %', timeout,
                duroxide._quote(key), duroxide._quote(instance) USING ERRCODE = 'query_canceled';
        END IF;
        PERFORM duroxide._await_status_change(instance, seen,
            least(1000, ceil(extract(epoch FROM deadline - clock_timestamp()) * 1000))::integer);
    END LOOP;
    RETURN found;
END
$fn$;
COMMENT ON FUNCTION duroxide.wait_for_kv_value(text, text, interval) IS
    'Waits until "key" is set in an instance''s durable key-value store and returns its value; '
    'errors after "timeout". Sleeps on the latch that the dispatcher sets when it commits a '
    'turn that changes a status or a key.';

CREATE OR REPLACE FUNCTION duroxide.get_orchestration_stats(instance text,
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
    -- The size of the events as duroxide JSON (what read_history returns), not of their rows.
    SELECT count(*), coalesce(sum(octet_length(duroxide._event_json(
               h.instance_id, h.execution_id, h.event_id, h.event_type, h.event_data))), 0),
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
