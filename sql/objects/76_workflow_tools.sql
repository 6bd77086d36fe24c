-- Workflow tools (docs/workflows.md, "Builders" and "Explaining a workflow"): builder functions
-- that return the JSON of one node, so that a definition reads well in psql, and
-- explain_workflow, which renders a definition as indented text or as a Mermaid flowchart.
-- Builders are pure functions of their arguments; they validate nothing themselves
-- (define_workflow validates the whole definition).
-- {key: value}, or {} when value is NULL: the optional fields of a node.
CREATE OR REPLACE FUNCTION duroxide._wf_opt(key text, value jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN CASE WHEN value IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(key, value) END;
COMMENT ON FUNCTION duroxide._wf_opt(text, jsonb) IS
    'Internal: {key: value}, or {} when value is NULL (the optional fields of a builder''s node).';

-- An interval as whole milliseconds (how a definition may give any interval).
CREATE OR REPLACE FUNCTION duroxide._wf_ms(value interval) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN to_jsonb(round(extract(epoch FROM value) * 1000)::bigint);
COMMENT ON FUNCTION duroxide._wf_ms(interval) IS
    'Internal: an interval as a JSON number of milliseconds (NULL stays NULL).';

CREATE OR REPLACE FUNCTION duroxide.wf_as(node jsonb, name text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN node || duroxide._wf_opt('as', to_jsonb(name));
COMMENT ON FUNCTION duroxide.wf_as(jsonb, text) IS
    'Workflow builder: the node with its result kept as $steps.<name> (the "as" field).';

CREATE OR REPLACE FUNCTION duroxide.wf_expr(expression text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('$expr', expression);
COMMENT ON FUNCTION duroxide.wf_expr(text) IS
    'Workflow builder: {"$expr": expression}, a value template evaluated as an expression.';

CREATE OR REPLACE FUNCTION duroxide.wf_seq(VARIADIC steps jsonb[]) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'seq', 'steps', to_jsonb(steps));
COMMENT ON FUNCTION duroxide.wf_seq(jsonb[]) IS
    'Workflow builder: a seq node running the steps in order.';

CREATE OR REPLACE FUNCTION duroxide.wf_sql(query text, params jsonb DEFAULT NULL, name text DEFAULT NULL,
                                tag text DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'sql', 'query', query)
           || duroxide._wf_opt('params', params) || duroxide._wf_opt('as', to_jsonb(name))
           || duroxide._wf_opt('tag', to_jsonb(tag));
COMMENT ON FUNCTION duroxide.wf_sql(text, jsonb, text, text) IS
    'Workflow builder: a sql node (statement with $1..$n bound from the params templates, an '
    'array), its result kept as $steps.<name> when name is given.';

CREATE OR REPLACE FUNCTION duroxide.wf_retry(max_attempts integer, backoff text DEFAULT NULL,
                                  delay interval DEFAULT NULL, max_delay interval DEFAULT NULL,
                                  multiplier double precision DEFAULT NULL,
                                  timeout interval DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('max_attempts', max_attempts)
           || duroxide._wf_opt('backoff', to_jsonb(backoff))
           || duroxide._wf_opt('delay', duroxide._wf_ms(delay))
           || duroxide._wf_opt('max_delay', duroxide._wf_ms(max_delay))
           || duroxide._wf_opt('multiplier', to_jsonb(multiplier))
           || duroxide._wf_opt('timeout', duroxide._wf_ms(timeout));
COMMENT ON FUNCTION duroxide.wf_retry(integer, text, interval, interval, double precision, interval) IS
    'Workflow builder: the retry policy of an activity node (backoff none, fixed, linear or '
    'exponential).';

CREATE OR REPLACE FUNCTION duroxide.wf_activity(activity text, input jsonb DEFAULT NULL,
                                     name text DEFAULT NULL, retry jsonb DEFAULT NULL,
                                     timeout interval DEFAULT NULL, tag text DEFAULT NULL,
                                     session jsonb DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'activity', 'name', activity)
           || duroxide._wf_opt('input', input) || duroxide._wf_opt('as', to_jsonb(name))
           || duroxide._wf_opt('retry', retry)
           || duroxide._wf_opt('timeout', duroxide._wf_ms(timeout))
           || duroxide._wf_opt('tag', to_jsonb(tag)) || duroxide._wf_opt('session', session);
COMMENT ON FUNCTION duroxide.wf_activity(text, jsonb, text, jsonb, interval, text, jsonb) IS
    'Workflow builder: an activity node calling a registered activity with the input template; '
    'retry from duroxide.wf_retry, timeout per attempt.';

CREATE OR REPLACE FUNCTION duroxide.wf_parallel(VARIADIC branches jsonb[]) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'parallel', 'branches', to_jsonb(branches));
COMMENT ON FUNCTION duroxide.wf_parallel(jsonb[]) IS
    'Workflow builder: a parallel node (all branches at once, an array of their results).';

CREATE OR REPLACE FUNCTION duroxide.wf_race(VARIADIC branches jsonb[]) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'race', 'branches', to_jsonb(branches));
COMMENT ON FUNCTION duroxide.wf_race(jsonb[]) IS
    'Workflow builder: a race node (the first branch to finish wins, the others are cancelled).';

CREATE OR REPLACE FUNCTION duroxide.wf_if(condition text, then_node jsonb, else_node jsonb DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'if', 'condition', condition, 'then', then_node)
           || duroxide._wf_opt('else', else_node);
COMMENT ON FUNCTION duroxide.wf_if(text, jsonb, jsonb) IS
    'Workflow builder: an if node (condition is an expression).';

CREATE OR REPLACE FUNCTION duroxide.wf_case(value jsonb, node jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('when', value, 'do', node);
COMMENT ON FUNCTION duroxide.wf_case(jsonb, jsonb) IS
    'Workflow builder: one case of duroxide.wf_switch (run node when the value equals value).';

CREATE OR REPLACE FUNCTION duroxide.wf_switch(value text, default_node jsonb, VARIADIC cases jsonb[])
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'switch', 'value', value, 'cases', to_jsonb(cases))
           || duroxide._wf_opt('default', default_node);
COMMENT ON FUNCTION duroxide.wf_switch(text, jsonb, jsonb[]) IS
    'Workflow builder: a switch node over the expression value, cases from duroxide.wf_case, '
    'default_node (may be NULL) when none matches.';

CREATE OR REPLACE FUNCTION duroxide.wf_foreach(items text, body jsonb, max_in_flight integer DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'foreach', 'items', items, 'body', body)
           || duroxide._wf_opt('max_in_flight', to_jsonb(max_in_flight));
COMMENT ON FUNCTION duroxide.wf_foreach(text, jsonb, integer) IS
    'Workflow builder: a foreach node running body for each element ($item, $index) of the '
    'array expression items, at most max_in_flight at once.';

CREATE OR REPLACE FUNCTION duroxide.wf_loop(body jsonb, while_condition text DEFAULT NULL,
                                 max_iterations bigint DEFAULT NULL,
                                 continue_as_new_every bigint DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'loop', 'body', body)
           || duroxide._wf_opt('while', to_jsonb(while_condition))
           || duroxide._wf_opt('max_iterations', to_jsonb(max_iterations))
           || duroxide._wf_opt('continue_as_new_every', to_jsonb(continue_as_new_every));
COMMENT ON FUNCTION duroxide.wf_loop(jsonb, text, bigint, bigint) IS
    'Workflow builder: a loop node (while_condition checked before each iteration).';

CREATE OR REPLACE FUNCTION duroxide.wf_sleep(duration interval) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'sleep', 'duration', duroxide._wf_ms(duration));
COMMENT ON FUNCTION duroxide.wf_sleep(interval) IS
    'Workflow builder: a sleep node (a durable timer; the interval in milliseconds).';

CREATE OR REPLACE FUNCTION duroxide.wf_wait_event(event text, timeout interval DEFAULT NULL,
                                       name text DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'wait_event', 'event', event)
           || duroxide._wf_opt('timeout', duroxide._wf_ms(timeout))
           || duroxide._wf_opt('as', to_jsonb(name));
COMMENT ON FUNCTION duroxide.wf_wait_event(text, interval, text) IS
    'Workflow builder: a wait_event node (the named external event, optionally with a timeout).';

CREATE OR REPLACE FUNCTION duroxide.wf_dequeue(queue text, timeout interval DEFAULT NULL,
                                    name text DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'dequeue', 'queue', queue)
           || duroxide._wf_opt('timeout', duroxide._wf_ms(timeout))
           || duroxide._wf_opt('as', to_jsonb(name));
COMMENT ON FUNCTION duroxide.wf_dequeue(text, interval, text) IS
    'Workflow builder: a dequeue node (the next message of the instance''s queue).';

CREATE OR REPLACE FUNCTION duroxide.wf_sub_workflow(workflow text, input jsonb DEFAULT NULL,
                                         version text DEFAULT NULL, name text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'sub_workflow', 'workflow', workflow)
           || duroxide._wf_opt('input', input) || duroxide._wf_opt('version', to_jsonb(version))
           || duroxide._wf_opt('as', to_jsonb(name));
COMMENT ON FUNCTION duroxide.wf_sub_workflow(text, jsonb, text, text) IS
    'Workflow builder: a sub_workflow node (a child instance of a defined workflow).';

CREATE OR REPLACE FUNCTION duroxide.wf_set_status(value jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'set_status', 'value', value);
COMMENT ON FUNCTION duroxide.wf_set_status(jsonb) IS
    'Workflow builder: a set_status node (value is a template; a JSON string is the status text).';

CREATE OR REPLACE FUNCTION duroxide.wf_kv_set(key text, value jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'kv_set', 'key', key, 'value', value);
COMMENT ON FUNCTION duroxide.wf_kv_set(text, jsonb) IS
    'Workflow builder: a kv_set node (sets the instance''s key-value entry to the template).';

CREATE OR REPLACE FUNCTION duroxide.wf_fail(message jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'fail', 'message', message);
COMMENT ON FUNCTION duroxide.wf_fail(jsonb) IS
    'Workflow builder: a fail node (message is a template).';

CREATE OR REPLACE FUNCTION duroxide.wf_return(value jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'return', 'value', value);
COMMENT ON FUNCTION duroxide.wf_return(jsonb) IS
    'Workflow builder: a return node (value is a template).';

CREATE OR REPLACE FUNCTION duroxide.wf_try(body jsonb, catch_node jsonb DEFAULT NULL,
                                finally_node jsonb DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'try', 'body', body)
           || duroxide._wf_opt('catch', catch_node) || duroxide._wf_opt('finally', finally_node);
COMMENT ON FUNCTION duroxide.wf_try(jsonb, jsonb, jsonb) IS
    'Workflow builder: a try node (catch runs when body failed, with $error; finally after either).';

-- One line describing a node (without its children): kind, what it runs or waits for, the name
-- its result is kept under.
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
COMMENT ON FUNCTION duroxide._wf_describe(jsonb) IS
    'Internal: one line describing a workflow node for explain_workflow (its children excluded).';

-- A definition's interval (a number of milliseconds or a text such as "5 s") as text.
CREATE OR REPLACE FUNCTION duroxide._wf_interval_text(value jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN CASE WHEN jsonb_typeof(value) <> 'number' THEN value #>> '{}'
                WHEN (value #>> '{}')::numeric % 86400000 = 0 AND (value #>> '{}')::numeric > 0
                    THEN ((value #>> '{}')::numeric / 86400000)::bigint || ' day'
                WHEN (value #>> '{}')::numeric % 3600000 = 0 AND (value #>> '{}')::numeric > 0
                    THEN ((value #>> '{}')::numeric / 3600000)::bigint || ' h'
                WHEN (value #>> '{}')::numeric % 60000 = 0 AND (value #>> '{}')::numeric > 0
                    THEN ((value #>> '{}')::numeric / 60000)::bigint || ' min'
                WHEN (value #>> '{}')::numeric % 1000 = 0 AND (value #>> '{}')::numeric > 0
                    THEN ((value #>> '{}')::numeric / 1000)::bigint || ' s'
                ELSE (value #>> '{}') || ' ms' END;
COMMENT ON FUNCTION duroxide._wf_interval_text(jsonb) IS
    'Internal: a workflow interval (milliseconds or text) as text.';

-- The children of a node, each with the label of the edge that leads to it, in order.
CREATE OR REPLACE FUNCTION duroxide._wf_children(node jsonb)
    RETURNS TABLE (label text, child jsonb)
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT c.label, c.child FROM (
            SELECT s.n AS ord, s.n::text AS label, s.child
              FROM jsonb_array_elements(CASE WHEN node->>'kind' = 'seq'
                                             THEN node->'steps' END) WITH ORDINALITY AS s(child, n)
            UNION ALL
            SELECT b.n, 'branch ' || b.n, b.child
              FROM jsonb_array_elements(CASE WHEN node->>'kind' IN ('parallel', 'race')
                                             THEN node->'branches' END) WITH ORDINALITY AS b(child, n)
            UNION ALL
            SELECT w.n, 'when ' || (w.c->'when')::text, w.c->'do'
              FROM jsonb_array_elements(CASE WHEN node->>'kind' = 'switch'
                                             THEN node->'cases' END) WITH ORDINALITY AS w(c, n)
            UNION ALL
            SELECT f.ord, f.label, node->f.key
              FROM (VALUES (1001, 'then', 'then'), (1002, 'else', 'else'),
                           (1003, 'default', 'default'), (1004, 'body', 'body'),
                           (1005, 'catch', 'catch'), (1006, 'finally', 'finally'))
                   AS f(ord, label, key)
             WHERE jsonb_typeof(node->f.key) = 'object'
               AND node->>'kind' IN ('if', 'if_rows', 'switch', 'try', 'foreach', 'loop',
                                                'while')) c
         ORDER BY c.ord;
    END;
COMMENT ON FUNCTION duroxide._wf_children(jsonb) IS
    'Internal: the child nodes of a workflow node with their edge labels, in order.';

-- The lines of a node and its subtree: indented text, or Mermaid node and edge lines (node ids
-- follow the path: n, n_1, n_1_2, ...).
CREATE OR REPLACE FUNCTION duroxide._wf_explain(node jsonb, format text, id text, label text, depth integer)
    RETURNS SETOF text
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    c record;
    n integer := 0;
BEGIN
    IF depth > 64 THEN
        RETURN;  -- definitions are at most 24 levels deep; this only bounds malformed input
    END IF;
    IF format = 'text' THEN
        RETURN NEXT repeat('  ', depth) || coalesce(label || ': ', '') || duroxide._wf_describe(node);
    ELSE
        RETURN NEXT '  ' || id || '["' || replace(replace(replace(duroxide._wf_describe(node),
                            '&', '#amp;'), '"', '#quot;'), '<', '#lt;') || '"]';
    END IF;
    FOR c IN SELECT * FROM duroxide._wf_children(node) LOOP
        n := n + 1;
        IF format = 'mermaid' THEN
            RETURN NEXT '  ' || id || ' -->|' || replace(replace(c.label, '"', '#quot;'), '|', '#124;')
                        || '| ' || id || '_' || n;
        END IF;
        RETURN QUERY SELECT * FROM duroxide._wf_explain(c.child, format, id || '_' || n,
                                                         c.label, depth + 1);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION duroxide._wf_explain(jsonb, text, text, text, integer) IS
    'Internal: the explain_workflow lines of a node and its subtree.';

CREATE OR REPLACE FUNCTION duroxide.explain_workflow_definition(definition jsonb, format text DEFAULT 'text')
    RETURNS SETOF text
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF format IS NULL OR format NOT IN ('text', 'mermaid') THEN
        RAISE EXCEPTION 'format must be ''text'' or ''mermaid'', not %',
                        coalesce(quote_literal(left(format, 32)), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF definition IS NULL THEN
        RETURN;
    END IF;
    IF format = 'mermaid' THEN
        RETURN NEXT 'flowchart TD';
    END IF;
    RETURN QUERY SELECT * FROM duroxide._wf_explain(definition, format, 'n', NULL, 0);
END
$fn$;
COMMENT ON FUNCTION duroxide.explain_workflow_definition(jsonb, text) IS
    'The graph of a workflow definition, one line per row: indented text (format ''text'') or a '
    'Mermaid flowchart (format ''mermaid'').';

CREATE OR REPLACE FUNCTION duroxide.explain_workflow(name text, version text DEFAULT NULL,
                                          format text DEFAULT 'text')
    RETURNS SETOF text
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    definition jsonb := duroxide.show_workflow(name, version);
BEGIN
    IF definition IS NULL THEN
        RAISE EXCEPTION 'workflow "%"% does not exist', left(name, 128),
                        coalesce(' version ' || left(version, 32), '')
            USING ERRCODE = 'undefined_object',
                  HINT = 'See duroxide.workflows for the workflows you may start.';
    END IF;
    RETURN QUERY SELECT * FROM duroxide.explain_workflow_definition(definition, format);
END
$fn$;
COMMENT ON FUNCTION duroxide.explain_workflow(text, text, text) IS
    'The graph of workflow "name" at "version" (default: the newest) that the current role may '
    'see, one line per row: indented text (format ''text'') or a Mermaid flowchart (''mermaid'').';

DO $grants$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
              WHERE p.pronamespace = 'duroxide'::regnamespace
                AND (p.proname LIKE 'wf\_%' OR p.proname LIKE '\_wf\_%'
                     OR p.proname IN ('explain_workflow', 'explain_workflow_definition')) LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO duroxide_admin, duroxide_user', f);
    END LOOP;
END
$grants$;
