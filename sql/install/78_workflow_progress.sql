-- workflow_progress: each node of a workflow instance's definition with its state, derived
-- from the history of its current execution by replaying it offline through the interpreter
-- (src/core/workflow/progress.hpp; docs/workflows.md, "Progress").

CREATE FUNCTION duroxide._workflow_progress(history text) RETURNS text
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'duroxide_workflow_progress';
REVOKE ALL ON FUNCTION duroxide._workflow_progress(text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._workflow_progress(text) IS
    'Internal: the progress rows (JSON) of a workflow execution whose history (a JSON array of '
    'events) is given; called by workflow_progress after its access check.';

CREATE FUNCTION duroxide.workflow_progress(instance text)
    RETURNS TABLE (path text, kind text, state text, attempts integer,
                   started_at timestamptz, finished_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    execution bigint;
    events text;
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    SELECT i.current_execution_id INTO execution
      FROM duroxide.instances i
     WHERE i.instance_id = workflow_progress.instance AND duroxide._may_access(i.owner_role);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance % does not exist', duroxide._quote(instance)
            USING ERRCODE = 'no_data_found';
    END IF;
    SELECT '[' || string_agg(h.event_data, ',' ORDER BY h.event_id) || ']' INTO events
      FROM duroxide.history h
     WHERE h.instance_id = workflow_progress.instance AND h.execution_id = execution;
    IF events IS NULL THEN
        RETURN; -- started, not run yet
    END IF;
    RETURN QUERY
    SELECT r.path, r.kind, r.state, r.attempts,
           to_timestamp(r.started_ms / 1000.0), to_timestamp(r.finished_ms / 1000.0)
      FROM jsonb_array_elements(duroxide._workflow_progress(events)::jsonb)
               WITH ORDINALITY AS a(row, n),
           jsonb_to_record(a.row) AS r(path text, kind text, state text, attempts integer,
                                       started_ms bigint, finished_ms bigint)
     ORDER BY a.n;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide.workflow_progress(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.workflow_progress(text) TO duroxide_admin, duroxide_user;
COMMENT ON FUNCTION duroxide.workflow_progress(text) IS
    'Each node of a workflow instance''s definition (current execution) in definition order: '
    'kind, state (pending, running, done, failed, cancelled; NULL for a node that schedules no '
    'work itself; unattributed rows, with a NULL path, for work no node can be named for), '
    'times scheduled, first start and last finish. Derived by replaying the history offline. '
    'Errors when the instance does not exist or belongs to another role.';
