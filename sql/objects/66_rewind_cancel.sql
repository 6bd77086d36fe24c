-- Rewind a failed instance, and cancel with a grace period (docs/architecture.md "Rewind";
-- docs/plugin-guide.md "Graceful cancellation"). The rewind's rule lives in the core
-- (core::plan_rewind, behind duroxide._rewind_plan); the statements here apply it.
CREATE OR REPLACE FUNCTION duroxide._wake_at_commit() RETURNS void
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_wake_at_commit';
COMMENT ON FUNCTION duroxide._wake_at_commit() IS
    'Internal: wakes this database''s dispatchers, activity workers and status waiters when the transaction commits.';
REVOKE ALL ON FUNCTION duroxide._wake_at_commit() FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide._rewind_plan(instance text, history text,
    OUT action text, OUT event_id bigint, OUT detail text)
    RETURNS SETOF record
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_rewind_plan';
COMMENT ON FUNCTION duroxide._rewind_plan(text, text) IS
    'Internal: the rewind plan of an execution''s history (a JSON array): events to drop, '
    'activities and timers to queue again, children to rewind; raises the refusal otherwise.';
REVOKE ALL ON FUNCTION duroxide._rewind_plan(text, text) FROM PUBLIC;
-- Saved by pg_dump with the instances they belong to (sql/install/81_backup_rewinds.sql).
REVOKE ALL ON duroxide.rewinds, duroxide.rewound_events FROM PUBLIC;
GRANT SELECT ON duroxide.rewinds, duroxide.rewound_events TO duroxide_admin;

CREATE OR REPLACE FUNCTION duroxide._rewind(instance text, reason text, as_child boolean,
                                 parent_rewind bigint)
    RETURNS TABLE (instance_id text, action text, event_id bigint, detail text)
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    inst duroxide.instances%ROWTYPE;
    exec_status text;
    exec_error text;
    history_json text;
    rid bigint;
    p record;
    shown text := left(instance, 200);
BEGIN
    SELECT * INTO inst FROM duroxide.instances i WHERE i.instance_id = _rewind.instance FOR UPDATE;
    IF NOT FOUND OR NOT duroxide._may_access(inst.owner_role) THEN
        RAISE EXCEPTION 'instance "%" does not exist', shown
            USING ERRCODE = 'no_data_found',
                  HINT = 'duroxide.instances_overview lists the instances you may see.';
    END IF;
    IF inst.parent_instance_id IS NOT NULL AND NOT as_child THEN
        RAISE EXCEPTION 'cannot rewind instance "%": it is a sub-orchestration of "%"',
                        shown, left(inst.parent_instance_id, 200)
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Rewind its root instance: a rewind retries the failed sub-orchestrations '
                         'the parent waits on.';
    END IF;
    IF EXISTS (SELECT 1 FROM duroxide.instance_locks l
                WHERE l.instance_id = inst.instance_id AND l.locked_until > clock_timestamp()
                  AND duroxide._lock_holder_alive(l.locked_by)) THEN
        RAISE EXCEPTION 'cannot rewind instance "%": a dispatcher is processing it', shown
            USING ERRCODE = 'lock_not_available', HINT = 'Try again in a moment.';
    END IF;
    SELECT e.status, e.error INTO exec_status, exec_error FROM duroxide.executions e
     WHERE e.instance_id = inst.instance_id AND e.execution_id = inst.current_execution_id
       FOR UPDATE;
    IF exec_status IS DISTINCT FROM 'Failed' THEN
        RAISE EXCEPTION 'cannot rewind instance "%": it is %, not Failed', shown,
                        coalesce(duroxide._client_status(exec_status), 'not started')
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Only a Failed instance can be rewound.';
    END IF;
    SELECT '[' || string_agg(duroxide._event_json(h.instance_id, h.execution_id, h.event_id,
                                                  h.event_type, h.event_data),
                             ',' ORDER BY h.event_id) || ']' INTO history_json
      FROM duroxide.history h
     WHERE h.instance_id = inst.instance_id AND h.execution_id = inst.current_execution_id;

    INSERT INTO duroxide.rewinds (instance_id, execution_id, reason, rewound_by, error,
                                  parent_rewind_id)
    VALUES (inst.instance_id, inst.current_execution_id, reason, duroxide._calling_role(),
            exec_error, parent_rewind)
    RETURNING rewind_id INTO rid;

    FOR p IN SELECT * FROM duroxide._rewind_plan(inst.instance_id, coalesce(history_json, '[]'))
    LOOP
        CASE p.action
        WHEN 'drop' THEN
            WITH gone AS (
                DELETE FROM duroxide.history h
                 WHERE h.instance_id = inst.instance_id
                   AND h.execution_id = inst.current_execution_id AND h.event_id = p.event_id
                RETURNING h.event_id, h.event_type, h.event_data, h.created_at
            )
            INSERT INTO duroxide.rewound_events (rewind_id, event_id, event_type, event_data,
                                                 created_at)
            SELECT rid, gone.event_id, gone.event_type, gone.event_data, gone.created_at FROM gone;
            RETURN QUERY SELECT inst.instance_id, 'dropped'::text, p.event_id,
                   (SELECT r.event_type FROM duroxide.rewound_events r
                     WHERE r.rewind_id = rid AND r.event_id = p.event_id);
        WHEN 'activity' THEN
            DELETE FROM duroxide.worker_queue w
             WHERE w.instance_id = inst.instance_id
               AND w.execution_id = inst.current_execution_id AND w.activity_id = p.event_id;
            INSERT INTO duroxide.worker_queue (work_item, instance_id, execution_id, activity_id,
                                               session_id, tag)
            VALUES (p.detail, inst.instance_id, inst.current_execution_id, p.event_id,
                    p.detail::jsonb->'ActivityExecute'->>'session_id',
                    p.detail::jsonb->'ActivityExecute'->>'tag');
            RETURN QUERY SELECT inst.instance_id, 'retried'::text, p.event_id,
                   p.detail::jsonb->'ActivityExecute'->>'name';
        WHEN 'timer' THEN
            IF NOT EXISTS (
                SELECT 1 FROM duroxide.orchestrator_queue q
                 WHERE q.instance_id = inst.instance_id AND q.work_item LIKE '{"TimerFired"%'
                   AND (q.work_item::jsonb->'TimerFired'->>'id')::bigint = p.event_id
                   AND (q.work_item::jsonb->'TimerFired'->>'execution_id')::bigint
                       = inst.current_execution_id) THEN
                INSERT INTO duroxide.orchestrator_queue (instance_id, work_item, visible_at)
                VALUES (inst.instance_id, p.detail,
                        greatest(clock_timestamp(), to_timestamp(
                            (p.detail::jsonb->'TimerFired'->>'fire_at_ms')::bigint / 1000.0)));
                RETURN QUERY SELECT inst.instance_id, 'rearmed'::text, p.event_id,
                       to_timestamp((p.detail::jsonb->'TimerFired'->>'fire_at_ms')::bigint
                                    / 1000.0)::text;
            END IF;
        WHEN 'child' THEN
            RETURN QUERY SELECT inst.instance_id, 'rewound child'::text, p.event_id, p.detail;
            RETURN QUERY SELECT * FROM duroxide._rewind(p.detail, reason, true, rid);
        END CASE;
    END LOOP;
    -- The failure closed the instance's explicit sessions (a terminal turn deletes its
    -- open_sessions rows); the rewound execution has them open again: those its history left
    -- open, in order (the ones continue-as-new carried in OrchestrationStarted, then each
    -- SessionOpened and SessionClosed).
    DELETE FROM duroxide.open_sessions o WHERE o.instance_id = inst.instance_id;
    INSERT INTO duroxide.open_sessions (instance_id, session_id)
    SELECT inst.instance_id, m.session_id
      FROM (SELECT DISTINCT ON (k.session_id) k.session_id, k.is_open
              FROM (SELECT h.event_id, s.session_id, true AS is_open
                      FROM duroxide.history h,
                           jsonb_array_elements_text(
                               CASE WHEN jsonb_typeof(h.event_data::jsonb->'open_sessions') = 'array'
                                    THEN h.event_data::jsonb->'open_sessions'
                                    ELSE '[]'::jsonb END) AS s(session_id)
                     WHERE h.instance_id = inst.instance_id
                       AND h.execution_id = inst.current_execution_id
                       AND h.event_type = 'OrchestrationStarted'
                    UNION ALL
                    SELECT h.event_id, h.event_data::jsonb->>'session_id',
                           h.event_type = 'SessionOpened'
                      FROM duroxide.history h
                     WHERE h.instance_id = inst.instance_id
                       AND h.execution_id = inst.current_execution_id
                       AND h.event_type IN ('SessionOpened', 'SessionClosed')) k
             ORDER BY k.session_id, k.event_id DESC) m
     WHERE m.is_open;
    UPDATE duroxide.executions e SET status = 'Running', output = NULL, error = NULL,
                                     completed_at = NULL
     WHERE e.instance_id = inst.instance_id AND e.execution_id = inst.current_execution_id;
    UPDATE duroxide.instances i SET updated_at = clock_timestamp()
     WHERE i.instance_id = inst.instance_id;
    PERFORM duroxide._wake_at_commit();
END
$fn$;
COMMENT ON FUNCTION duroxide._rewind(text, text, boolean, bigint) IS
    'Internal: rewinds one instance (and, through the plan, its failed children); the body of rewind_instance.';
REVOKE ALL ON FUNCTION duroxide._rewind(text, text, boolean, bigint) FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide.rewind_instance(instance text, reason text)
    RETURNS TABLE (instance_id text, action text, event_id bigint, detail text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF instance IS NULL OR reason IS NULL THEN
        RAISE EXCEPTION 'instance and reason must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF reason = '' OR octet_length(reason) > 4096 THEN
        RAISE EXCEPTION 'reason must be 1 to 4096 bytes, not %', octet_length(reason)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Say why the instance is rewound; duroxide.rewinds keeps it.';
    END IF;
    RETURN QUERY SELECT * FROM duroxide._rewind(instance, reason, false, NULL);
END
$fn$;
COMMENT ON FUNCTION duroxide.rewind_instance(text, text) IS
    'Retries a Failed instance from where it failed: the failed activity and sub-orchestration '
    'results recorded after the code''s last step (and the failure itself) leave the current '
    'execution''s history (kept in duroxide.rewound_events), the activities run again, failed '
    'children are rewound, and the code replays to the same point. Refused with a reason when '
    'that is not safe. Returns what it dropped, retried, re-armed and rewound.';

CREATE OR REPLACE FUNCTION duroxide.cancel_instance(instance text, reason text, grace interval)
    RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    exec_id bigint;
    exec_status text;
    observes boolean;
BEGIN
    IF instance IS NULL OR reason IS NULL OR grace IS NULL THEN
        RAISE EXCEPTION 'instance, reason and grace must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF grace < interval '0' OR grace > interval '7 days' THEN
        RAISE EXCEPTION 'grace must be between 0 and 7 days, not %', grace
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The cancel is forced when the grace period is over; 0 forces it at once.';
    END IF;
    IF octet_length(reason) > 4096 THEN
        RAISE EXCEPTION 'reason must be at most 4096 bytes, not %', octet_length(reason)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT i.current_execution_id, e.status INTO exec_id, exec_status
      FROM duroxide.instances i
      LEFT JOIN duroxide.executions e
             ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
     WHERE i.instance_id = cancel_instance.instance AND duroxide._may_access(i.owner_role);
    IF NOT FOUND THEN
        IF NOT EXISTS (SELECT 1 FROM duroxide.orchestrator_queue q
                        WHERE q.instance_id = cancel_instance.instance
                          AND q.work_item LIKE '{"StartOrchestration"%'
                          AND duroxide._may_access(q.started_by)) THEN
            RAISE EXCEPTION 'instance "%" does not exist', left(instance, 200)
                USING ERRCODE = 'no_data_found',
                      HINT = 'duroxide.instances_overview lists the instances you may see.';
        END IF;
    ELSIF exec_status IN ('Completed', 'Failed') THEN
        RETURN 'finished';
    END IF;
    -- Opted in: the current execution has called cancellation_requested().
    observes := exec_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM duroxide.history h
         WHERE h.instance_id = cancel_instance.instance AND h.execution_id = exec_id
           AND h.event_type = 'ExternalSubscribedPersistent'
           AND h.event_data::jsonb->>'name' = '__duroxide:cancellation');
    IF observes AND grace > interval '0' THEN
        INSERT INTO duroxide.orchestrator_queue (instance_id, work_item)
        VALUES (instance, jsonb_build_object('QueueMessage', jsonb_build_object(
                    'instance', instance, 'name', '__duroxide:cancellation', 'data', reason))::text);
    END IF;
    INSERT INTO duroxide.orchestrator_queue (instance_id, work_item, visible_at)
    VALUES (instance, jsonb_build_object('CancelInstance', jsonb_build_object(
                'instance', instance, 'reason', reason))::text,
            clock_timestamp() + CASE WHEN observes THEN grace ELSE interval '0' END);
    PERFORM duroxide._wake_at_commit();
    RETURN CASE WHEN observes AND grace > interval '0' THEN 'requested' ELSE 'forced' END;
END
$fn$;
COMMENT ON FUNCTION duroxide.cancel_instance(text, text, interval) IS
    'Cancels an instance with a grace period: an execution that called '
    'cancellation_requested() gets the request (that future completes with "reason"), may '
    'compensate and end cancelled, and is cancelled by force when "grace" is over; any other '
    'is cancelled at once, as by cancel_instance(instance, reason). Returns requested, forced '
    'or finished (nothing to do).';

REVOKE ALL ON FUNCTION duroxide.rewind_instance(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.rewind_instance(text, text) TO duroxide_admin, duroxide_user;
REVOKE ALL ON FUNCTION duroxide.cancel_instance(text, text, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.cancel_instance(text, text, interval)
    TO duroxide_admin, duroxide_user;
