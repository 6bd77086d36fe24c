-- SQL-authored workflows, continued (docs/workflows.md): the wait_for_schedule node's builder
-- and the cron arithmetic behind it.

CREATE FUNCTION duroxide.cron_next_fire(cron text, after timestamptz DEFAULT now(),
                                        time_zone text DEFAULT NULL) RETURNS timestamptz
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'duroxide_cron_next_fire';
COMMENT ON FUNCTION duroxide.cron_next_fire(text, timestamptz, text) IS
    'The first fire time of a 5-field cron expression strictly after "after", read as wall-clock '
    'time in time_zone (NULL: UTC): what a wait_for_schedule node waiting then sleeps until.';
REVOKE ALL ON FUNCTION duroxide.cron_next_fire(text, timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.cron_next_fire(text, timestamptz, text)
    TO duroxide_admin, duroxide_user;

CREATE FUNCTION duroxide.wf_wait_for_schedule(cron text, time_zone text DEFAULT NULL,
                                              name text DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'wait_for_schedule', 'cron', cron)
           || duroxide._wf_opt('timezone', to_jsonb(time_zone))
           || duroxide._wf_opt('as', to_jsonb(name));
COMMENT ON FUNCTION duroxide.wf_wait_for_schedule(text, text, text) IS
    'Workflow builder: a wait_for_schedule node (sleeps until the next fire time of a 5-field '
    'cron expression, in time_zone or UTC; its result is {"fire_at", "fire_at_ms"}).';
REVOKE ALL ON FUNCTION duroxide.wf_wait_for_schedule(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.wf_wait_for_schedule(text, text, text)
    TO duroxide_admin, duroxide_user;

-- explain_workflow describes a wait_for_schedule node by its cron expression and time zone.
-- Replaces the 78_workflow_progress version.
CREATE OR REPLACE FUNCTION duroxide._wf_describe(node jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    kind text := coalesce(node->>'kind', '?');
    detail text;
    brief CONSTANT integer := 72;
BEGIN
    detail := CASE kind
        WHEN 'sql' THEN regexp_replace(node->>'query', '\s+', ' ', 'g')
                        || coalesce(' ' || (node->'params')::text, '')
        WHEN 'activity' THEN node->>'name' || coalesce(' ' || (node->'input')::text, '')
        WHEN 'http' THEN coalesce(node->>'method', 'GET') || ' ' || (node->>'url')
        WHEN 'sleep' THEN coalesce(duroxide._wf_interval_text(node->'duration'),
                                   'until ' || (node->>'until'))
        WHEN 'wait_for_schedule' THEN '"' || (node->>'cron') || '"'
                                      || coalesce(' ' || (node->>'timezone'), ' UTC')
        WHEN 'wait_event' THEN '"' || (node->>'event') || '"'
                               || coalesce(' timeout ' || duroxide._wf_interval_text(node->'timeout'), '')
        WHEN 'dequeue' THEN '"' || (node->>'queue') || '"'
                            || coalesce(' timeout ' || duroxide._wf_interval_text(node->'timeout'), '')
        WHEN 'if' THEN node->>'condition'
        WHEN 'if_rows' THEN 'rows in $steps.' || (node->>'step')
        WHEN 'switch' THEN node->>'value'
        WHEN 'foreach' THEN node->>'items' || coalesce(' max_in_flight ' || (node->>'max_in_flight'), '')
        WHEN 'loop' THEN concat_ws(' ', 'while ' || (node->>'while'),
                                   'max_iterations ' || (node->>'max_iterations'),
                                   'continue_as_new_every ' || (node->>'continue_as_new_every'))
        WHEN 'while' THEN concat_ws(' ', node->>'condition',
                                    'max_iterations ' || (node->>'max_iterations'),
                                    'continue_as_new_every ' || (node->>'continue_as_new_every'))
        WHEN 'sub_workflow' THEN coalesce(node->>'workflow', 'orchestration ' || (node->>'orchestration'))
                                 || coalesce(' ' || (node->>'version'), '')
        WHEN 'set_status' THEN (node->'value')::text
        WHEN 'kv_set' THEN (node->>'key') || ' = ' || (node->'value')::text
        WHEN 'fail' THEN (node->'message')::text
        WHEN 'return' THEN (node->'value')::text
        ELSE NULL END;
    IF length(detail) > brief THEN
        detail := left(detail, brief - 3) || '...';
    END IF;
    RETURN kind || coalesce(' ' || nullif(detail, ''), '')
           || coalesce(' -> $steps.' || (node->>'as'), '');
END
$fn$;
