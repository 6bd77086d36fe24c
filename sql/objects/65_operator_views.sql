-- Operator views: instances at a glance, what an instance waits on, its history in readable
-- form, and counters per orchestration and activity name (docs/user-guide.md, "What is this
-- instance waiting on?"). Reads honour per-role isolation (duroxide._may_access) like every
-- other instance read: a caller sees only the instances it may reach. The views read
-- SECURITY DEFINER functions that filter before returning rows, so a caller's own functions
-- in a WHERE clause never see the rows of other roles.
-- An ErrorDetails JSON as one line: the same text as the engine's display message (what a
-- failed execution records as its output).
CREATE OR REPLACE FUNCTION duroxide._error_text(details jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN CASE
        WHEN details ? 'Infrastructure' THEN
            'infrastructure:' || (details->'Infrastructure'->>'operation') || ': '
                || (details->'Infrastructure'->>'message')
        WHEN details ? 'Configuration' THEN
            'nondeterministic: ' || coalesce(details->'Configuration'->>'message',
                                             details->'Configuration'->>'resource')
        WHEN details ? 'Application' THEN
            CASE
                WHEN jsonb_typeof(details->'Application'->'kind') = 'object' THEN
                    'canceled: ' || (details->'Application'->'kind'->'Cancelled'->>'reason')
                WHEN details->'Application'->>'kind' = 'Panicked' THEN
                    'orchestration panicked: ' || (details->'Application'->>'message')
                ELSE details->'Application'->>'message'
            END
        WHEN details ? 'Poison' THEN
            'poison: ' || (details->'Poison'->>'message') || ' (attempt '
                || (details->'Poison'->>'attempt_count') || ' of max '
                || (details->'Poison'->>'max_attempts') || ')'
    END;
COMMENT ON FUNCTION duroxide._error_text(jsonb) IS
    'Internal: an ErrorDetails JSON as one line of text (the engine''s display message).';
REVOKE ALL ON FUNCTION duroxide._error_text(jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide.get_instances_overview()
    RETURNS TABLE (instance_id text, status text, orchestration_name text,
                   orchestration_version text, execution_id bigint, created_at timestamptz,
                   updated_at timestamptz, duration interval, error text, custom_status text,
                   parent_instance_id text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT i.instance_id, duroxide._client_status(e.status) AS status, i.orchestration_name,
               i.orchestration_version, i.current_execution_id AS execution_id, i.created_at,
               i.updated_at,
               coalesce(e.completed_at, clock_timestamp()) - i.created_at AS duration,
               CASE WHEN e.status = 'Failed' THEN duroxide._error_text(e.error::jsonb) END AS error,
               i.custom_status, i.parent_instance_id
          FROM duroxide.instances i
          LEFT JOIN duroxide.executions e
                 ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
         WHERE duroxide._may_access(i.owner_role);
    END;
COMMENT ON FUNCTION duroxide.get_instances_overview() IS
    'Rows of the duroxide.instances_overview view (instances the caller may reach).';

CREATE OR REPLACE VIEW duroxide.instances_overview AS SELECT * FROM duroxide.get_instances_overview();
COMMENT ON VIEW duroxide.instances_overview IS
    'Instances the caller may reach: status, orchestration and version, current execution, '
    'created and updated, duration (until now while running), error text of a failure, custom '
    'status and parent.';

-- The scheduling event of every completion (source_event_id) gives completions their name.
CREATE OR REPLACE FUNCTION duroxide.history_view(instance text, execution bigint DEFAULT NULL)
    RETURNS TABLE (execution_id bigint, event_id bigint, recorded_at timestamptz, kind text,
                   name text, source_event_id bigint, input text, output text, error text,
                   detail text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    exec_id bigint;
BEGIN
    IF instance IS NULL THEN
        RAISE EXCEPTION 'instance must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF execution IS NOT NULL AND execution < 1 THEN
        RAISE EXCEPTION 'execution must be at least 1, not %', execution
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT coalesce(history_view.execution, i.current_execution_id) INTO exec_id
      FROM duroxide.instances i
     WHERE i.instance_id = history_view.instance AND duroxide._may_access(i.owner_role);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance "%" does not exist', left(instance, 200)
            USING ERRCODE = 'no_data_found',
                  HINT = 'duroxide.instances_overview lists the instances you may see.';
    END IF;
    RETURN QUERY
    WITH ev AS (
        SELECT h.execution_id, h.event_id, h.event_type, h.event_data::jsonb AS d
          FROM duroxide.history h
         WHERE h.instance_id = history_view.instance AND h.execution_id = exec_id
    )
    SELECT ev.execution_id, ev.event_id,
           to_timestamp((ev.d->>'timestamp_ms')::bigint / 1000.0),
           ev.event_type,
           coalesce(ev.d->>'name', ev.d->>'key', src.d->>'name'),
           (ev.d->>'source_event_id')::bigint,
           CASE WHEN ev.event_type IN ('OrchestrationStarted', 'ActivityScheduled',
                                       'SubOrchestrationScheduled', 'OrchestrationChained',
                                       'OrchestrationContinuedAsNew')
                THEN ev.d->>'input' END,
           coalesce(ev.d->>'output', ev.d->>'result', ev.d->>'data', ev.d->>'value',
                    ev.d->>'status'),
           CASE WHEN ev.d ? 'details' THEN duroxide._error_text(ev.d->'details') END,
           concat_ws(', ',
               CASE WHEN ev.d ? 'fire_at_ms' THEN 'fires at ' || to_timestamp(
                   (ev.d->>'fire_at_ms')::bigint / 1000.0)::text END,
               CASE WHEN ev.d ? 'reason' THEN 'reason: ' || (ev.d->>'reason') END,
               CASE WHEN ev.d ? 'instance' THEN 'instance: ' || (ev.d->>'instance') END,
               CASE WHEN ev.d->>'version' <> '' THEN 'version: ' || (ev.d->>'version') END,
               CASE WHEN ev.d->>'parent_instance' IS NOT NULL
                    THEN 'parent: ' || (ev.d->>'parent_instance') END,
               CASE WHEN ev.d->>'session_id' IS NOT NULL
                    THEN 'session: ' || (ev.d->>'session_id') END,
               CASE WHEN ev.d->>'tag' IS NOT NULL THEN 'tag: ' || (ev.d->>'tag') END)
      FROM ev
      LEFT JOIN ev src ON src.event_id = (ev.d->>'source_event_id')::bigint
     ORDER BY ev.event_id;
END
$fn$;
COMMENT ON FUNCTION duroxide.history_view(text, bigint) IS
    'The history of an execution (the current one by default) in readable form: event time, '
    'kind, name (a completion takes the name of the work it completes), source event, input, '
    'output and error as text, and the other fields in "detail".';

-- What a running instance waits on, derived from its current execution's history and the
-- queues. Event waits and dequeues are matched the way the engine does: an ExternalEvent
-- completes the oldest open wait of its name recorded before it; a queue message completes
-- the oldest waiting dequeue of its queue, or waits in the queue for the next one.
CREATE OR REPLACE FUNCTION duroxide.pending_work(instance text)
    RETURNS TABLE (kind text, event_id bigint, name text, state text, attempt integer,
                   due_at timestamptz, child_instance text, child_status text, detail text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    inst duroxide.instances%ROWTYPE;
    exec_status text;
    exec_id bigint;
    h record;
    waits jsonb := '{}';      -- name -> [open wait event ids], oldest first
    dequeues jsonb := '{}';   -- queue -> [waiting dequeue event ids], oldest first
    buffered jsonb := '{}';   -- queue -> number of messages no dequeue took yet
    closed bigint[] := '{}';  -- waits and dequeues that were completed or cancelled
    n text;
    src bigint;
BEGIN
    IF instance IS NULL THEN
        RAISE EXCEPTION 'instance must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO inst FROM duroxide.instances i
     WHERE i.instance_id = pending_work.instance AND duroxide._may_access(i.owner_role);
    IF NOT FOUND THEN
        -- Not started yet: a start message waiting for a dispatcher (or its handler).
        RETURN QUERY
        SELECT 'start'::text, NULL::bigint, q.work_item::jsonb->'StartOrchestration'->>'orchestration',
               CASE WHEN l.instance_id IS NOT NULL THEN 'running'
                    WHEN q.visible_at > clock_timestamp() THEN 'delayed' ELSE 'queued' END,
               -- a claimed start counts its fetch in progress (not written to the message)
               q.attempt_count + CASE WHEN l.instance_id IS NOT NULL THEN 1 ELSE 0 END,
               q.visible_at, NULL::text, NULL::text,
               'version: ' || coalesce(q.work_item::jsonb->'StartOrchestration'->>'version', 'any')
          FROM duroxide.orchestrator_queue q
          LEFT JOIN duroxide.instance_locks l ON l.instance_id = q.instance_id
                AND l.lock_token IS NOT NULL AND q.id = ANY (l.claimed)
         WHERE q.instance_id = pending_work.instance
           AND q.work_item LIKE '{"StartOrchestration"%'
           AND duroxide._may_access(q.started_by)
         ORDER BY q.id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'instance "%" does not exist', left(instance, 200)
                USING ERRCODE = 'no_data_found',
                      HINT = 'duroxide.instances_overview lists the instances you may see.';
        END IF;
        RETURN;
    END IF;
    exec_id := inst.current_execution_id;
    SELECT e.status INTO exec_status FROM duroxide.executions e
     WHERE e.instance_id = inst.instance_id AND e.execution_id = exec_id;
    IF exec_status IS NOT NULL AND exec_status NOT IN ('Running', 'ContinuedAsNew') THEN
        RETURN; -- finished: waits on nothing
    END IF;

    -- Positional matching of event waits and queue messages, in history order.
    FOR h IN SELECT x.event_id, x.event_type, x.event_data::jsonb AS d
               FROM duroxide.history x
              WHERE x.instance_id = inst.instance_id AND x.execution_id = exec_id
              ORDER BY x.event_id LOOP
        n := h.d->>'name';
        src := (h.d->>'source_event_id')::bigint;
        CASE h.event_type
        WHEN 'ExternalSubscribed' THEN
            waits := jsonb_set(waits, ARRAY[n], coalesce(waits->n, '[]') || to_jsonb(h.event_id));
        WHEN 'ExternalEvent' THEN
            IF jsonb_array_length(coalesce(waits->n, '[]')) > 0 THEN
                closed := closed || (waits->n->>0)::bigint;
                waits := jsonb_set(waits, ARRAY[n], (waits->n) - 0);
            END IF;
        WHEN 'ExternalSubscribedPersistent' THEN
            IF coalesce((buffered->>n)::int, 0) > 0 THEN
                closed := closed || h.event_id;
                buffered := jsonb_set(buffered, ARRAY[n], to_jsonb((buffered->>n)::int - 1));
            ELSE
                dequeues := jsonb_set(dequeues, ARRAY[n],
                                      coalesce(dequeues->n, '[]') || to_jsonb(h.event_id));
            END IF;
        WHEN 'ExternalEventPersistent' THEN
            IF jsonb_array_length(coalesce(dequeues->n, '[]')) > 0 THEN
                closed := closed || (dequeues->n->>0)::bigint;
                dequeues := jsonb_set(dequeues, ARRAY[n], (dequeues->n) - 0);
            ELSE
                buffered := jsonb_set(buffered, ARRAY[n],
                                      to_jsonb(coalesce((buffered->>n)::int, 0) + 1));
            END IF;
        WHEN 'ExternalSubscribedCancelled', 'ExternalSubscribedPersistentCancelled' THEN
            closed := closed || src;
        ELSE
            NULL;
        END CASE;
    END LOOP;

    RETURN QUERY
    WITH ev AS (
        SELECT x.event_id, x.event_type, x.event_data::jsonb AS d
          FROM duroxide.history x
         WHERE x.instance_id = inst.instance_id AND x.execution_id = exec_id
    ), done AS (
        SELECT DISTINCT (ev.d->>'source_event_id')::bigint AS id FROM ev
         WHERE ev.d ? 'source_event_id'
    ), open AS (
        SELECT ev.* FROM ev
         WHERE ev.event_type IN ('ActivityScheduled', 'TimerCreated', 'SubOrchestrationScheduled',
                                 'ExternalSubscribed', 'ExternalSubscribedPersistent')
           AND NOT EXISTS (SELECT 1 FROM done WHERE done.id = ev.event_id)
           AND ev.event_id <> ALL (closed)
    )
    SELECT CASE o.event_type
               WHEN 'ActivityScheduled' THEN 'activity'
               WHEN 'TimerCreated' THEN 'timer'
               WHEN 'SubOrchestrationScheduled' THEN 'sub_orchestration'
               WHEN 'ExternalSubscribed' THEN 'event'
               ELSE 'queue' END,
           o.event_id,
           CASE WHEN o.event_type = 'TimerCreated' THEN retry.name ELSE o.d->>'name' END,
           CASE o.event_type
               WHEN 'ActivityScheduled' THEN
                   CASE WHEN w.id IS NULL THEN 'completing'
                        WHEN w.lock_token IS NOT NULL AND w.locked_until > clock_timestamp()
                            THEN 'running'
                        WHEN w.visible_at > clock_timestamp() THEN 'delayed'
                        ELSE 'queued' END
               WHEN 'TimerCreated' THEN
                   CASE WHEN retry.name IS NOT NULL THEN 'retry backoff' ELSE 'waiting' END
               WHEN 'SubOrchestrationScheduled' THEN 'running'
               ELSE 'waiting' END,
           CASE o.event_type
               WHEN 'ActivityScheduled' THEN
                   (1 + (SELECT count(*) FROM ev p JOIN ev f
                           ON f.event_type = 'ActivityFailed'
                          AND (f.d->>'source_event_id')::bigint = p.event_id
                          WHERE p.event_type = 'ActivityScheduled' AND p.event_id < o.event_id
                            AND p.d->>'name' = o.d->>'name'
                            AND p.d->>'input' = o.d->>'input'))::integer
               WHEN 'TimerCreated' THEN (retry.failed_attempts + 1)::integer
           END,
           CASE o.event_type
               WHEN 'TimerCreated' THEN to_timestamp((o.d->>'fire_at_ms')::bigint / 1000.0)
               WHEN 'ActivityScheduled' THEN
                   CASE WHEN w.visible_at > clock_timestamp() THEN w.visible_at END
           END,
           CASE WHEN o.event_type = 'SubOrchestrationScheduled' THEN o.d->>'instance' END,
           CASE WHEN o.event_type = 'SubOrchestrationScheduled'
                THEN CASE WHEN ci.instance_id IS NOT NULL
                          THEN coalesce(duroxide._client_status(ce.status), 'NotStarted')
                          WHEN NOT EXISTS (SELECT 1 FROM duroxide.instances x
                                            WHERE x.instance_id = o.d->>'instance')
                          THEN 'NotStarted' END END,
           concat_ws(', ',
               CASE WHEN o.event_type = 'ActivityScheduled' AND w.id IS NOT NULL
                    THEN 'deliveries: ' || w.attempt_count END,
               CASE WHEN o.event_type = 'ActivityScheduled' AND w.lock_token IS NOT NULL
                         AND w.locked_until > clock_timestamp()
                    THEN 'lease until ' || w.locked_until::text END,
               CASE WHEN o.d->>'session_id' IS NOT NULL THEN 'session: ' || (o.d->>'session_id') END,
               CASE WHEN o.d->>'tag' IS NOT NULL THEN 'tag: ' || (o.d->>'tag') END,
               CASE WHEN retry.name IS NOT NULL THEN 'last error: ' || retry.error END)
      FROM open o
      LEFT JOIN duroxide.worker_queue w
             ON o.event_type = 'ActivityScheduled' AND w.instance_id = inst.instance_id
            AND w.execution_id = exec_id AND w.activity_id = o.event_id
      -- A child the caller may not reach (an explicit id another role's instance holds) is
      -- shown without its status.
      LEFT JOIN duroxide.instances ci
             ON o.event_type = 'SubOrchestrationScheduled' AND ci.instance_id = o.d->>'instance'
            AND duroxide._may_access(ci.owner_role)
      LEFT JOIN duroxide.executions ce
             ON ce.instance_id = ci.instance_id AND ce.execution_id = ci.current_execution_id
      -- A timer right after a failed activity's completion is a retry's backoff.
      LEFT JOIN LATERAL (
          SELECT s.d->>'name' AS name, duroxide._error_text(f.d->'details') AS error,
                 (SELECT count(*) FROM ev p JOIN ev pf
                    ON pf.event_type = 'ActivityFailed'
                   AND (pf.d->>'source_event_id')::bigint = p.event_id
                   WHERE p.event_type = 'ActivityScheduled' AND p.event_id < o.event_id
                     AND p.d->>'name' = s.d->>'name' AND p.d->>'input' = s.d->>'input')
                     AS failed_attempts
            FROM ev f JOIN ev s ON s.event_id = (f.d->>'source_event_id')::bigint
           WHERE o.event_type = 'TimerCreated' AND f.event_type = 'ActivityFailed'
             AND f.event_id < o.event_id
             AND NOT EXISTS (SELECT 1 FROM ev between_ev
                              WHERE between_ev.event_id > f.event_id
                                AND between_ev.event_id < o.event_id
                                AND between_ev.event_type IN ('ActivityScheduled', 'TimerCreated',
                                    'SubOrchestrationScheduled', 'ExternalSubscribed',
                                    'ExternalSubscribedPersistent'))
           ORDER BY f.event_id DESC LIMIT 1
      ) retry ON true
     ORDER BY o.event_id;
END
$fn$;
COMMENT ON FUNCTION duroxide.pending_work(text) IS
    'What a running instance waits on: open activities (state, retry attempt, next delivery), '
    'timers with their fire time (a retry''s backoff names its activity), event waits, '
    'dequeues and sub-orchestrations with their status; a start not yet run. No rows when '
    'the instance has finished.';

-- Counters and durations per orchestration name (executions) and activity name (history).
CREATE OR REPLACE FUNCTION duroxide.get_metrics_by_name()
    RETURNS TABLE (kind text, name text, started bigint, completed bigint, failed bigint,
                   cancelled bigint, continued_as_new bigint, open bigint,
                   avg_duration interval, max_duration interval)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH reachable AS (
            SELECT i.instance_id, i.orchestration_name FROM duroxide.instances i
             WHERE duroxide._may_access(i.owner_role)
        ), act AS (
            SELECT s.instance_id, s.execution_id, s.event_id, s.event_data::jsonb->>'name' AS name,
                   s.created_at
              FROM duroxide.history s JOIN reachable r ON r.instance_id = s.instance_id
             WHERE s.event_type = 'ActivityScheduled'
        ), act_done AS (
            SELECT c.instance_id, c.execution_id, (c.event_data::jsonb->>'source_event_id')::bigint AS id,
                   c.event_type, c.created_at
              FROM duroxide.history c JOIN reachable r ON r.instance_id = c.instance_id
             WHERE c.event_type IN ('ActivityCompleted', 'ActivityFailed', 'ActivityCancelRequested')
        ), orch_rows AS (
            SELECT 'orchestration'::text AS kind, r.orchestration_name AS name, count(*) AS started,
                   count(*) FILTER (WHERE e.status = 'Completed') AS completed,
                   count(*) FILTER (WHERE e.status = 'Failed' AND NOT e.error::jsonb @? '$.Application.kind.Cancelled')
                       AS failed,
                   count(*) FILTER (WHERE e.status = 'Failed' AND e.error::jsonb @? '$.Application.kind.Cancelled')
                       AS cancelled,
                   count(*) FILTER (WHERE e.status = 'ContinuedAsNew') AS continued_as_new,
                   count(*) FILTER (WHERE e.status = 'Running') AS open,
                   avg(e.completed_at - e.started_at) AS avg_duration,
                   max(e.completed_at - e.started_at) AS max_duration
              FROM reachable r JOIN duroxide.executions e ON e.instance_id = r.instance_id
             GROUP BY r.orchestration_name
        ), act_rows AS (
            SELECT 'activity'::text AS kind, a.name, count(*) AS started,
                   count(*) FILTER (WHERE d.event_type = 'ActivityCompleted') AS completed,
                   count(*) FILTER (WHERE d.event_type = 'ActivityFailed') AS failed,
                   count(*) FILTER (WHERE d.event_type = 'ActivityCancelRequested') AS cancelled,
                   0::bigint AS continued_as_new,
                   count(*) FILTER (WHERE d.event_type IS NULL) AS open,
                   avg(d.created_at - a.created_at) FILTER (WHERE d.event_type <> 'ActivityCancelRequested')
                       AS avg_duration,
                   max(d.created_at - a.created_at) FILTER (WHERE d.event_type <> 'ActivityCancelRequested')
                       AS max_duration
              FROM act a
              LEFT JOIN act_done d ON d.instance_id = a.instance_id AND d.execution_id = a.execution_id
                                  AND d.id = a.event_id
             GROUP BY a.name
        )
        SELECT kind, name, started, completed, failed, cancelled, continued_as_new, open,
               avg_duration, max_duration
          FROM orch_rows
        UNION ALL
        SELECT kind, name, started, completed, failed, cancelled, continued_as_new, open,
               avg_duration, max_duration
          FROM act_rows;
    END;
COMMENT ON FUNCTION duroxide.get_metrics_by_name() IS
    'Rows of the duroxide.metrics_by_name view (over the instances the caller may reach).';

CREATE OR REPLACE VIEW duroxide.metrics_by_name AS SELECT * FROM duroxide.get_metrics_by_name();
COMMENT ON VIEW duroxide.metrics_by_name IS
    'Per orchestration name (executions: started, completed, failed, continued as new, running, '
    'average and longest duration of finished ones) and per activity name (scheduled, '
    'completed, failed, cancelled, open, average and longest time from scheduling to result), '
    'over the instances the caller may reach and still stored. Reads the store: for an '
    'occasional look, not for polling (duroxide.metrics has the cheap server-wide counters).';

REVOKE ALL ON FUNCTION duroxide.get_instances_overview(), duroxide.get_metrics_by_name()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.get_instances_overview(), duroxide.get_metrics_by_name()
    TO duroxide_admin, duroxide_user;
REVOKE ALL ON duroxide.instances_overview, duroxide.metrics_by_name FROM PUBLIC;
GRANT SELECT ON duroxide.instances_overview, duroxide.metrics_by_name
    TO duroxide_admin, duroxide_user;
REVOKE ALL ON FUNCTION duroxide.history_view(text, bigint), duroxide.pending_work(text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.history_view(text, bigint), duroxide.pending_work(text)
    TO duroxide_admin, duroxide_user;
