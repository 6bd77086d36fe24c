-- workflow_progress: each node of a workflow instance's definition with its state, derived
-- from the history of its current execution by replaying it offline through the interpreter
-- (src/core/workflow/progress.hpp; docs/workflows.md, "Progress").
CREATE OR REPLACE FUNCTION duroxide._workflow_progress(history text, children text) RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'duroxide_workflow_progress';
REVOKE ALL ON FUNCTION duroxide._workflow_progress(text, text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._workflow_progress(text, text) IS
    'Internal: the progress rows (JSON) of a workflow execution whose history is given, with '
    'the histories of its branch children (a JSON object: instance id -> history text); called '
    'by workflow_progress after its access check.';


CREATE OR REPLACE FUNCTION duroxide.workflow_progress(instance text)
    RETURNS TABLE (path text, kind text, state text, attempts integer,
                   started_at timestamptz, finished_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    execution bigint;
    events text;
    children text;
    prefix text := instance || '::sub::';
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    SELECT i.current_execution_id INTO execution
      FROM duroxide.instances i
     WHERE i.instance_id = workflow_progress.instance AND duroxide._may_access(i.owner_role);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance % does not exist', duroxide._quote(instance)
            USING ERRCODE = 'no_data_found';
    END IF;
    SELECT '[' || string_agg(duroxide._event_json(h.instance_id, h.execution_id, h.event_id,
                                                  h.event_type, h.event_data),
                             ',' ORDER BY h.event_id) || ']' INTO events
      FROM duroxide.history h
     WHERE h.instance_id = workflow_progress.instance AND h.execution_id = execution;
    IF events IS NULL THEN
        RETURN; -- started, not run yet
    END IF;
    -- The branch children (and theirs), each the caller may read.
    SELECT jsonb_object_agg(c.instance_id, c.history)::text INTO children
      FROM (SELECT i.instance_id,
                   (SELECT '[' || string_agg(duroxide._event_json(h.instance_id, h.execution_id,
                                               h.event_id, h.event_type, h.event_data),
                                           ',' ORDER BY h.event_id) || ']'
                      FROM duroxide.history h
                     WHERE h.instance_id = i.instance_id
                       AND h.execution_id = i.current_execution_id) AS history
              FROM duroxide.instances i
             WHERE left(i.instance_id, length(prefix)) = prefix
               AND duroxide._may_access(i.owner_role)) c
     WHERE c.history IS NOT NULL;
    RETURN QUERY
    SELECT r.path, r.kind, r.state, r.attempts,
           to_timestamp(r.started_ms / 1000.0), to_timestamp(r.finished_ms / 1000.0)
      FROM jsonb_array_elements(duroxide._workflow_progress(events, children)::jsonb)
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

-- Builders of the node forms added with workflow_progress (as 76_workflow_tools' builders:
-- pure, validated by define_workflow).
CREATE OR REPLACE FUNCTION duroxide.wf_sleep_until(until text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'sleep', 'until', until);
COMMENT ON FUNCTION duroxide.wf_sleep_until(text) IS
    'Workflow builder: a sleep node until the timestamp an expression gives (ISO-8601 text or '
    'Unix milliseconds).';

CREATE OR REPLACE FUNCTION duroxide.wf_if_rows(step text, then_node jsonb, else_node jsonb DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'if_rows', 'step', step, 'then', then_node)
           || duroxide._wf_opt('else', else_node);
COMMENT ON FUNCTION duroxide.wf_if_rows(text, jsonb, jsonb) IS
    'Workflow builder: an if_rows node (then when the sql step named step returned rows).';

CREATE OR REPLACE FUNCTION duroxide.wf_break() RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN '{"kind": "break"}'::jsonb;
COMMENT ON FUNCTION duroxide.wf_break() IS
    'Workflow builder: a break node (ends the innermost loop).';

REVOKE ALL ON FUNCTION duroxide.wf_sleep_until(text), duroxide.wf_if_rows(text, jsonb, jsonb),
    duroxide.wf_break() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.wf_sleep_until(text), duroxide.wf_if_rows(text, jsonb, jsonb),
    duroxide.wf_break() TO duroxide_admin, duroxide_user;
