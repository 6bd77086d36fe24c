-- SQL-authored workflows, continued (docs/workflows.md): the wait_for_schedule node's builder
-- and the cron arithmetic behind it.

CREATE OR REPLACE FUNCTION duroxide.cron_next_fire(cron text, after timestamptz DEFAULT now(),
                                        time_zone text DEFAULT NULL) RETURNS timestamptz
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'duroxide_cron_next_fire';
COMMENT ON FUNCTION duroxide.cron_next_fire(text, timestamptz, text) IS
    'The first fire time of a 5-field cron expression strictly after "after", read as wall-clock '
    'time in time_zone (NULL: UTC): what a wait_for_schedule node waiting then sleeps until.';
REVOKE ALL ON FUNCTION duroxide.cron_next_fire(text, timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.cron_next_fire(text, timestamptz, text)
    TO duroxide_admin, duroxide_user;

CREATE OR REPLACE FUNCTION duroxide.wf_wait_for_schedule(cron text, time_zone text DEFAULT NULL,
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

-- The view reads a SECURITY DEFINER function that filters before returning rows (a caller's
-- own functions in a WHERE clause never see the activities it may not call); the caller is
-- duroxide._calling_role(), like everywhere else.
-- Workflow definitions are rows too (kind 'workflow', provider the owning role), each version,
-- only those the caller may start. It reads duroxide._may_start_workflow (75_workflows), so it
-- comes after it.
CREATE OR REPLACE FUNCTION duroxide.get_registered_handlers()
    RETURNS TABLE (kind text, name text, version text, provider_type text, provider text,
                   version_policy text, default_version boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
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
          LEFT JOIN duroxide.version_policies p
                 ON h.kind = 'orchestration' AND p.orchestration = h.name
          LEFT JOIN duroxide.plugins g ON g.name = h.plugin
         WHERE h.kind = 'orchestration'
            OR duroxide._may_call_activity(duroxide._calling_role(), g.registered_by,
                                           g.allowed_roles)
        UNION ALL
        SELECT 'activity', a.name, NULL, 'sql',
               CASE WHEN pg_has_role(duroxide._calling_role(), 'duroxide_admin', 'USAGE')
                    THEN a.function_oid::text END, NULL, NULL
          FROM duroxide.sql_activities a
         WHERE duroxide._may_call_activity(duroxide._calling_role(), a.run_as, a.allowed_roles)
        UNION ALL
        SELECT 'workflow', d.name, d.version, 'workflow',
               coalesce((SELECT r.rolname::text FROM pg_roles r WHERE r.oid = d.owner_role),
                        d.owner_role::text),
               coalesce(wp.version, 'latest'),
               d.version = coalesce(wp.version,
                   (SELECT l.version FROM duroxide.workflow_definitions l WHERE l.name = d.name
                     ORDER BY string_to_array(l.version, '.')::int[] DESC LIMIT 1))
          FROM duroxide.workflow_definitions d
          LEFT JOIN duroxide.workflow_version_policies wp ON wp.name = d.name
         WHERE duroxide._may_start_workflow(d.name, d.owner_role, duroxide._calling_role());
    END;
COMMENT ON FUNCTION duroxide.get_registered_handlers() IS
    'Rows of the duroxide.registered_handlers view (what the caller may see).';
REVOKE ALL ON FUNCTION duroxide.get_registered_handlers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.get_registered_handlers() TO duroxide_admin, duroxide_user;

CREATE OR REPLACE VIEW duroxide.registered_handlers AS SELECT * FROM duroxide.get_registered_handlers();
COMMENT ON VIEW duroxide.registered_handlers IS
    'Every orchestration, activity and workflow the runtime can run, with its version and '
    'provider (a plugin, an SQL function, or for a workflow definition the role that owns it); '
    'for orchestrations and workflows, the version policy (latest, or the exact version set by '
    'duroxide.set_version_policy / set_workflow_version_policy) and whether this is the version '
    'new instances get when none is given (default_version). A role without the privileges of '
    'duroxide_admin sees the orchestrations, only the activities its instances may call, '
    'without the function of SQL activities, and only the workflows it may start.';
REVOKE ALL ON duroxide.registered_handlers FROM PUBLIC;
GRANT SELECT ON duroxide.registered_handlers TO duroxide_admin, duroxide_user;

-- Operators for the peer's shorthand, on jsonb nodes (jsonb has none of these names, so none
-- of its own operators changes meaning): a ~> b (seq), a & b (parallel), a | b (race),
-- node |=> name (as), condition ?> node (if), if_node !> node (its else). They live in schema
-- duroxide: write OPERATOR(duroxide.~>) or put duroxide on the search_path. All have the same
-- precedence and group left to right: parenthesize a mix. The loop form @> is left out (jsonb's
-- containment operator).
CREATE OR REPLACE FUNCTION duroxide._wf_flat(kind text, field text, a jsonb, b jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', kind, field,
        CASE WHEN a->>'kind' = kind AND NOT a ? 'as' AND NOT a ? 'comment'
             THEN a->field ELSE jsonb_build_array(a) END
        || CASE WHEN b->>'kind' = kind AND NOT b ? 'as' AND NOT b ? 'comment'
                THEN b->field ELSE jsonb_build_array(b) END);
COMMENT ON FUNCTION duroxide._wf_flat(text, text, jsonb, jsonb) IS
    'Internal: a seq/parallel/race node of a and b, unnamed nodes of that kind flattened.';
CREATE OR REPLACE FUNCTION duroxide._wf_then(a jsonb, b jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN duroxide._wf_flat('seq', 'steps', a, b);
CREATE OR REPLACE FUNCTION duroxide._wf_join(a jsonb, b jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN duroxide._wf_flat('parallel', 'branches', a, b);
CREATE OR REPLACE FUNCTION duroxide._wf_either(a jsonb, b jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN duroxide._wf_flat('race', 'branches', a, b);
CREATE OR REPLACE FUNCTION duroxide._wf_when(condition text, then_node jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'if', 'condition', condition, 'then', then_node);
CREATE OR REPLACE FUNCTION duroxide._wf_else(if_node jsonb, else_node jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN if_node || jsonb_build_object('else', else_node);
COMMENT ON FUNCTION duroxide._wf_then(jsonb, jsonb) IS 'Workflow operator ~>: a seq of a then b.';
COMMENT ON FUNCTION duroxide._wf_join(jsonb, jsonb) IS 'Workflow operator &: a parallel of a and b.';
COMMENT ON FUNCTION duroxide._wf_either(jsonb, jsonb) IS 'Workflow operator |: a race of a and b.';
COMMENT ON FUNCTION duroxide._wf_when(text, jsonb) IS 'Workflow operator ?>: if condition then node.';
COMMENT ON FUNCTION duroxide._wf_else(jsonb, jsonb) IS 'Workflow operator !>: the else of an if node.';
-- CREATE OPERATOR has no OR REPLACE: each is created when missing (an operator refers to its
-- function, which CREATE OR REPLACE above keeps current).
DO $ops$
BEGIN
    IF to_regoperator('duroxide.~>(jsonb,jsonb)') IS NULL THEN
        CREATE OPERATOR duroxide.~> (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = duroxide._wf_then);
    END IF;
    IF to_regoperator('duroxide.&(jsonb,jsonb)') IS NULL THEN
        CREATE OPERATOR duroxide.& (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = duroxide._wf_join);
    END IF;
    IF to_regoperator('duroxide.|(jsonb,jsonb)') IS NULL THEN
        CREATE OPERATOR duroxide.| (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = duroxide._wf_either);
    END IF;
    IF to_regoperator('duroxide.|=>(jsonb,text)') IS NULL THEN
        CREATE OPERATOR duroxide.|=> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = duroxide.wf_as);
    END IF;
    IF to_regoperator('duroxide.?>(text,jsonb)') IS NULL THEN
        CREATE OPERATOR duroxide.?> (LEFTARG = text, RIGHTARG = jsonb, FUNCTION = duroxide._wf_when);
    END IF;
    IF to_regoperator('duroxide.!>(jsonb,jsonb)') IS NULL THEN
        CREATE OPERATOR duroxide.!> (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = duroxide._wf_else);
    END IF;
END
$ops$;
COMMENT ON OPERATOR duroxide.~>(jsonb, jsonb) IS 'Workflow: a then b (seq).';
COMMENT ON OPERATOR duroxide.&(jsonb, jsonb) IS 'Workflow: a and b at once (parallel).';
COMMENT ON OPERATOR duroxide.|(jsonb, jsonb) IS 'Workflow: the first of a and b (race).';
COMMENT ON OPERATOR duroxide.|=>(jsonb, text) IS 'Workflow: name the node''s result (as).';
COMMENT ON OPERATOR duroxide.?>(text, jsonb) IS 'Workflow: if condition then node.';
COMMENT ON OPERATOR duroxide.!>(jsonb, jsonb) IS 'Workflow: else branch of an if node.';
REVOKE ALL ON FUNCTION duroxide._wf_flat(text, text, jsonb, jsonb),
    duroxide._wf_then(jsonb, jsonb), duroxide._wf_join(jsonb, jsonb),
    duroxide._wf_either(jsonb, jsonb), duroxide._wf_when(text, jsonb),
    duroxide._wf_else(jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide._wf_flat(text, text, jsonb, jsonb),
    duroxide._wf_then(jsonb, jsonb), duroxide._wf_join(jsonb, jsonb),
    duroxide._wf_either(jsonb, jsonb), duroxide._wf_when(text, jsonb),
    duroxide._wf_else(jsonb, jsonb) TO duroxide_admin, duroxide_user;
