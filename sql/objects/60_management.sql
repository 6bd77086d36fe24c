-- Management: list and inspect instances, executions and trees; delete and prune.
-- Reads are for both roles and honour per-role isolation (duroxide._may_access); deletes and
-- prunes are for duroxide_admin. All are SECURITY DEFINER with a fixed search_path.
-- The status a client sees: a continued-as-new execution is the instance still running.
CREATE OR REPLACE FUNCTION duroxide._client_status(execution_status text) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN CASE execution_status WHEN 'ContinuedAsNew' THEN 'Running'
                                 ELSE coalesce(execution_status, 'Running') END;

CREATE OR REPLACE FUNCTION duroxide.list_instances(status text DEFAULT NULL, name text DEFAULT NULL,
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
    IF status IS NOT NULL AND status NOT IN ('Pending', 'Running', 'Completed', 'Failed') THEN
        RAISE EXCEPTION 'status must be Pending, Running, Completed or Failed, not %',
            duroxide._quote(status) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF after_cursor IS NOT NULL THEN
        IF after_cursor !~ '^[0-9]{1,18}:' THEN
            RAISE EXCEPTION 'malformed cursor %', duroxide._quote(after_cursor)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Pass the next_cursor of the last row of the previous page.';
        END IF;
        cursor_us := split_part(after_cursor, ':', 1)::bigint;
        cursor_id := substr(after_cursor, length(split_part(after_cursor, ':', 1)) + 2);
    END IF;
    -- Keyset pagination on (created_at, instance_id): stable while instances are added.
    -- Starts not run yet (Pending) are listed by the time they were queued.
    RETURN QUERY
    SELECT a.instance_id, a.orchestration_name, a.orchestration_version, a.status,
           a.execution_id, a.parent_instance_id, a.created_at, a.updated_at,
           (extract(epoch FROM a.created_at) * 1000000)::bigint::text || ':' || a.instance_id
      FROM (SELECT i.instance_id, i.orchestration_name, i.orchestration_version,
                   duroxide._client_status(e.status) AS status, i.current_execution_id AS execution_id,
                   i.parent_instance_id, i.created_at, i.updated_at
              FROM duroxide.instances i
              LEFT JOIN duroxide.executions e
                     ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
             WHERE duroxide._may_access(i.owner_role)
            UNION ALL
            (SELECT DISTINCT ON (q.instance_id) q.instance_id,
                   q.work_item::jsonb->'StartOrchestration'->>'orchestration',
                   q.work_item::jsonb->'StartOrchestration'->>'version', 'Pending', NULL::bigint,
                   q.work_item::jsonb->'StartOrchestration'->>'parent_instance',
                   q.created_at, q.created_at
              FROM duroxide.orchestrator_queue q
             WHERE q.started_by IS NOT NULL AND duroxide._may_access(q.started_by)
               AND q.work_item::jsonb ? 'StartOrchestration'
               AND NOT EXISTS (SELECT 1 FROM duroxide.instances x WHERE x.instance_id = q.instance_id)
             ORDER BY q.instance_id, q.id)) a
     WHERE (after_cursor IS NULL
            OR (a.created_at, a.instance_id) > (to_timestamp(cursor_us / 1000000.0), cursor_id))
       AND (list_instances.status IS NULL OR a.status = list_instances.status)
       AND (list_instances.name IS NULL OR a.orchestration_name = list_instances.name)
       AND (created_after IS NULL OR a.created_at > created_after)
       AND (created_before IS NULL OR a.created_at < created_before)
       AND (NOT root_only OR a.parent_instance_id IS NULL)
     ORDER BY a.created_at, a.instance_id
     LIMIT max_rows;
END
$fn$;
COMMENT ON FUNCTION duroxide.list_instances(text, text, timestamptz, timestamptz, boolean, integer, text) IS
    'Instances the caller may reach, oldest first, filtered by status, name, creation time and '
    'roots only; at most max_rows. Pass the next_cursor of the last row to get the next page.';

CREATE OR REPLACE FUNCTION duroxide.get_instance_info(instance text)
    RETURNS TABLE (instance_id text, orchestration_name text, orchestration_version text,
                   status text, execution_id bigint, executions bigint, parent_instance_id text,
                   owner text, custom_status text, custom_status_version integer,
                   created_at timestamptz, updated_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    RETURN QUERY
    SELECT i.instance_id, i.orchestration_name, i.orchestration_version,
           duroxide._client_status(e.status), i.current_execution_id,
           (SELECT count(*) FROM duroxide.executions x WHERE x.instance_id = i.instance_id),
           i.parent_instance_id, i.owner_role::regrole::text, i.custom_status,
           i.custom_status_version, i.created_at, i.updated_at
      FROM duroxide.instances i
      LEFT JOIN duroxide.executions e
             ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
     WHERE i.instance_id = get_instance_info.instance AND duroxide._may_access(i.owner_role);
END
$fn$;
COMMENT ON FUNCTION duroxide.get_instance_info(text) IS
    'One row about an instance (no row when it does not exist or the caller may not reach it).';

CREATE OR REPLACE FUNCTION duroxide.list_executions(instance text)
    RETURNS TABLE (execution_id bigint, status text, output text, started_at timestamptz,
                   completed_at timestamptz, events bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    RETURN QUERY
    SELECT e.execution_id, e.status, e.output, e.started_at, e.completed_at,
           (SELECT count(*) FROM duroxide.history h
             WHERE h.instance_id = e.instance_id AND h.execution_id = e.execution_id)
      FROM duroxide.executions e
      JOIN duroxide.instances i ON i.instance_id = e.instance_id
     WHERE e.instance_id = list_executions.instance AND duroxide._may_access(i.owner_role)
     ORDER BY e.execution_id;
END
$fn$;
COMMENT ON FUNCTION duroxide.list_executions(text) IS
    'The executions of an instance (one more per continue-as-new), with status and event count.';

-- An instance the caller may not reach reads as not existing, as in get_instance_info.
CREATE OR REPLACE FUNCTION duroxide.get_execution_info(instance text, execution bigint)
    RETURNS TABLE (execution_id bigint, status text, output text, started_at timestamptz,
                   completed_at timestamptz, event_count bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    IF execution IS NULL THEN
        RAISE EXCEPTION 'execution must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF execution < 1 THEN
        RAISE EXCEPTION 'execution must be at least 1, not %', execution
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM FROM duroxide.instances i
     WHERE i.instance_id = get_execution_info.instance AND duroxide._may_access(i.owner_role);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance % does not exist', duroxide._quote(instance) USING ERRCODE = 'no_data_found';
    END IF;
    RETURN QUERY
    SELECT e.execution_id, e.status, e.output, e.started_at, e.completed_at,
           (SELECT count(*) FROM duroxide.history h
             WHERE h.instance_id = e.instance_id AND h.execution_id = e.execution_id)
      FROM duroxide.executions e
     WHERE e.instance_id = get_execution_info.instance AND e.execution_id = execution;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance % has no execution %', duroxide._quote(instance), execution
            USING ERRCODE = 'no_data_found',
                  HINT = 'duroxide.list_executions lists the executions it has (pruned ones are gone).';
    END IF;
END
$fn$;
COMMENT ON FUNCTION duroxide.get_execution_info(text, bigint) IS
    'One execution of an instance: status, output, start and end (NULL while it runs) and its '
    'number of history events. Errors when the instance or the execution does not exist.';

CREATE OR REPLACE FUNCTION duroxide.get_instance_tree(instance text)
    RETURNS TABLE (instance_id text, parent_instance_id text, depth integer, status text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    RETURN QUERY
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
END
$fn$;
COMMENT ON FUNCTION duroxide.get_instance_tree(text) IS
    'An instance and all its sub-orchestrations, depth first level by level.';

CREATE OR REPLACE FUNCTION duroxide.list_children(instance text) RETURNS SETOF text
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    RETURN QUERY
    SELECT c.instance_id FROM duroxide.instances c
      JOIN duroxide.instances p ON p.instance_id = c.parent_instance_id
     WHERE c.parent_instance_id = list_children.instance AND duroxide._may_access(p.owner_role)
     ORDER BY c.instance_id;
END
$fn$;
COMMENT ON FUNCTION duroxide.list_children(text) IS 'The direct sub-orchestrations of an instance.';

-- Deletes the trees rooted at `roots` (all their rows, queued messages, activities and locks)
-- and returns what it deleted. Deleting a lock makes a turn in flight fail to record, so a
-- running instance is not recreated by its own dispatcher.
CREATE OR REPLACE FUNCTION duroxide._delete_trees(roots text[],
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

CREATE OR REPLACE FUNCTION duroxide.delete_instance(instance text, force boolean DEFAULT false,
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
        RAISE EXCEPTION 'instance % does not exist', duroxide._quote(instance) USING ERRCODE = 'no_data_found';
    END IF;
    IF target.parent_instance_id IS NOT NULL THEN
        RAISE EXCEPTION 'instance % is a sub-orchestration of %', duroxide._quote(instance),
            duroxide._quote(target.parent_instance_id)
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
        RAISE EXCEPTION 'instance % is still running', duroxide._quote(running)
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

CREATE OR REPLACE FUNCTION duroxide.delete_instances(completed_before timestamptz DEFAULT NULL,
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

-- The rule of prune_executions: an execution goes when it is at least keep_last executions
-- before the current one (so never the current one) and, with completed_before, it ended
-- before that (a continued-as-new execution recorded by 0.1.0, which kept no end time for it,
-- counts as ended).
CREATE OR REPLACE FUNCTION duroxide._prunable(execution_id bigint, status text, completed_at timestamptz,
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
        RAISE EXCEPTION 'instance % does not exist', duroxide._quote(instance) USING ERRCODE = 'no_data_found';
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
COMMENT ON FUNCTION duroxide.prune_executions(text, integer, timestamptz) IS
    'Deletes the history of old executions of an instance (continue-as-new leaves one per '
    'iteration), keeping the last keep_last, the current one always.';

-- The bulk form: every matching instance, running ones included (only old executions go).
-- Only instances with something to prune count against max_instances, so calling it again
-- goes on with the next ones. An instance whose row is being written at that moment (a turn
-- being recorded, another prune) is skipped, not waited for.
CREATE OR REPLACE FUNCTION duroxide.prune_executions_bulk(instance_ids text[] DEFAULT NULL,
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

CREATE OR REPLACE VIEW duroxide.queue_depths AS
SELECT 'orchestrator'::text AS queue,
       count(*) FILTER (WHERE q.visible_at <= clock_timestamp() AND l.instance_id IS NULL) AS ready,
       count(*) FILTER (WHERE q.visible_at > clock_timestamp()) AS delayed,
       count(*) FILTER (WHERE l.instance_id IS NOT NULL) AS in_progress
  FROM duroxide.orchestrator_queue q
  -- claimed: in the claim of a lock not released (the fetch does not write its messages)
  LEFT JOIN duroxide.instance_locks l ON l.instance_id = q.instance_id
        AND l.lock_token IS NOT NULL AND q.id = ANY (l.claimed)
UNION ALL
SELECT 'worker',
       count(*) FILTER (WHERE visible_at <= clock_timestamp()
                          AND (lock_token IS NULL OR locked_until <= clock_timestamp())),
       count(*) FILTER (WHERE visible_at > clock_timestamp()),
       count(*) FILTER (WHERE lock_token IS NOT NULL AND locked_until > clock_timestamp())
  FROM duroxide.worker_queue;
COMMENT ON VIEW duroxide.queue_depths IS
    'Messages per queue: ready to run, delayed (timers, backoff) and being processed.';

CREATE OR REPLACE VIEW duroxide.instance_counts AS
SELECT CASE e.status WHEN 'ContinuedAsNew' THEN 'Running' ELSE coalesce(e.status, 'Running') END
           AS status,
       count(*) AS instances
  FROM duroxide.instances i
  LEFT JOIN duroxide.executions e
         ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
 GROUP BY 1;
COMMENT ON VIEW duroxide.instance_counts IS 'Instances by status (all roles).';

CREATE OR REPLACE VIEW duroxide.system_metrics AS
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

DO $grants$
DECLARE f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'duroxide.list_instances(text, text, timestamptz, timestamptz, boolean, integer, text)',
        'duroxide.get_instance_info(text)', 'duroxide.list_executions(text)',
        'duroxide.get_execution_info(text, bigint)',
        'duroxide.get_instance_tree(text)', 'duroxide.list_children(text)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO duroxide_admin, duroxide_user', f);
    END LOOP;
    FOREACH f IN ARRAY ARRAY[
        'duroxide.delete_instance(text, boolean)',
        'duroxide.delete_instances(timestamptz, text[], integer)',
        'duroxide.prune_executions(text, integer, timestamptz)',
        'duroxide.prune_executions_bulk(text[], timestamptz, integer, integer, timestamptz)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO duroxide_admin', f);
    END LOOP;
END
$grants$;
REVOKE ALL ON FUNCTION duroxide._client_status(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION duroxide._prunable(bigint, text, timestamptz, bigint, integer, timestamptz)
    FROM PUBLIC;
REVOKE ALL ON duroxide.queue_depths, duroxide.instance_counts, duroxide.system_metrics FROM PUBLIC;
GRANT SELECT ON duroxide.queue_depths, duroxide.instance_counts, duroxide.system_metrics
    TO duroxide_admin;
