-- observe: pictures of an instance (a timeline SVG and a Mermaid tree, drawn by
-- src/core/observe from the histories) and the store-wide aggregates that the
-- postgres_exporter queries file (prometheus/duroxide_exporter_queries.yaml) reads
-- (docs/operations.md, "Prometheus").

-- The instance tree of `instance` with the current execution's history of each instance, as
-- JSON for the C renderers (core/observe/tree_input.hpp). Read through get_instance_tree and
-- read_history, which check the caller's access: an instance the caller may not reach reads as
-- absent. At most 200 instances (breadth first).
CREATE OR REPLACE FUNCTION duroxide._instance_tree_histories(instance text) RETURNS text
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    tree text;
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    SELECT json_agg(json_build_object(
               'instance', t.instance_id, 'parent', t.parent_instance_id, 'status', t.status,
               'history', (SELECT '[' || string_agg(h.event::text, ',' ORDER BY h.event_id) || ']'
                             FROM duroxide.read_history(t.instance_id) h))
               ORDER BY t.depth, t.instance_id)::text
      INTO tree
      FROM (SELECT g.* FROM duroxide.get_instance_tree(instance) g LIMIT 200) t;
    IF tree IS NULL THEN
        RAISE EXCEPTION 'instance % does not exist', duroxide._quote(instance)
            USING ERRCODE = 'no_data_found';
    END IF;
    RETURN tree;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._instance_tree_histories(text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._instance_tree_histories(text) IS
    'Internal: an instance tree with the current history of each instance, as JSON for the '
    'renderers; errors when the caller may not reach the instance.';

CREATE OR REPLACE FUNCTION duroxide._instance_timeline_svg(tree text, root text, now_ms bigint) RETURNS text
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'duroxide_instance_timeline_svg';
REVOKE ALL ON FUNCTION duroxide._instance_timeline_svg(text, text, bigint) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._instance_timeline_svg(text, text, bigint) IS
    'Internal: the timeline SVG of instance root drawn from an instance tree (see '
    '_instance_tree_histories); running work is drawn up to now_ms.';

CREATE OR REPLACE FUNCTION duroxide._instance_graph_mermaid(tree text, root text) RETURNS text
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'duroxide_instance_graph_mermaid';
REVOKE ALL ON FUNCTION duroxide._instance_graph_mermaid(text, text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._instance_graph_mermaid(text, text) IS
    'Internal: the Mermaid flowchart of an instance tree (see _instance_tree_histories).';

CREATE OR REPLACE FUNCTION duroxide.instance_timeline_svg(instance text) RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RETURN duroxide._instance_timeline_svg(duroxide._instance_tree_histories(instance), instance,
               (extract(epoch FROM clock_timestamp()) * 1000)::bigint);
END
$fn$;
COMMENT ON FUNCTION duroxide.instance_timeline_svg(text) IS
    'A self-contained SVG picture of an instance (current execution) and its sub-orchestrations: '
    'one row per activity attempt, timer, wait, dequeue and sub-orchestration, a bar from '
    'schedule to completion coloured by outcome, retries and cancellations marked. Errors when '
    'the instance does not exist or belongs to another role.';

CREATE OR REPLACE FUNCTION duroxide.instance_graph_mermaid(instance text) RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RETURN duroxide._instance_graph_mermaid(duroxide._instance_tree_histories(instance), instance);
END
$fn$;
COMMENT ON FUNCTION duroxide.instance_graph_mermaid(text) IS
    'The tree of an instance and its sub-orchestrations as a Mermaid flowchart (orchestration, '
    'instance id and status per node). Errors when the instance does not exist or belongs to '
    'another role.';

REVOKE ALL ON FUNCTION duroxide.instance_timeline_svg(text), duroxide.instance_graph_mermaid(text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.instance_timeline_svg(text), duroxide.instance_graph_mermaid(text)
    TO duroxide_admin, duroxide_user;

-- Monitoring: store-wide aggregates for a metrics scraper. No row names an instance, carries
-- an input, output or error, or depends on the caller's role. Granted to duroxide_admin and to
-- PostgreSQL's predefined role pg_monitor (which already reads store-wide statistics such as
-- pg_stat_user_tables), so the exporter connects as a pg_monitor member that holds no
-- duroxide role. pg_monitor gets USAGE on schema duroxide and EXECUTE on these four functions
-- only (nothing of the extension is granted to PUBLIC).
CREATE OR REPLACE FUNCTION duroxide.monitoring_queues(
    OUT queue text, OUT ready bigint, OUT delayed bigint, OUT in_progress bigint,
    OUT oldest_ready_seconds double precision)
    RETURNS SETOF record
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT d.queue, d.ready, d.delayed, d.in_progress,
           coalesce(extract(epoch FROM clock_timestamp() - o.oldest), 0)::double precision
      FROM duroxide.queue_depths d
      LEFT JOIN (SELECT 'orchestrator'::text AS queue, min(q.visible_at) AS oldest
                   FROM duroxide.orchestrator_queue q
                  WHERE q.visible_at <= clock_timestamp()
                    AND NOT EXISTS (SELECT 1 FROM duroxide.instance_locks l
                                     WHERE l.instance_id = q.instance_id
                                       AND l.lock_token IS NOT NULL AND q.id = ANY (l.claimed))
                 UNION ALL
                 SELECT 'worker', min(w.visible_at)
                   FROM duroxide.worker_queue w
                  WHERE w.visible_at <= clock_timestamp()
                    AND (w.lock_token IS NULL OR w.locked_until <= clock_timestamp())) o
             ON o.queue = d.queue
     ORDER BY d.queue
$fn$;
COMMENT ON FUNCTION duroxide.monitoring_queues() IS
    'Per queue (orchestrator, worker): messages ready, delayed and in progress (as the '
    'queue_depths view), and the age in seconds of the oldest ready message (0 when none). '
    'Store-wide; for monitoring (pg_monitor).';

CREATE OR REPLACE FUNCTION duroxide.monitoring_instances(OUT status text, OUT instances bigint)
    RETURNS SETOF record
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT s.status, coalesce(c.instances, 0)
      FROM (VALUES ('Running'), ('Completed'), ('Failed')) s(status)
      LEFT JOIN duroxide.instance_counts c ON c.status = s.status
     ORDER BY s.status
$fn$;
COMMENT ON FUNCTION duroxide.monitoring_instances() IS
    'Instances by status (Running, which includes those not started yet, Completed, Failed; '
    'every status listed, 0 when none), as the instance_counts view. Store-wide; for '
    'monitoring (pg_monitor).';

CREATE OR REPLACE FUNCTION duroxide.monitoring_processes(
    OUT role text, OUT slot integer, OUT database text, OUT state text, OUT up integer,
    OUT state_seconds double precision, OUT items_processed bigint)
    RETURNS SETOF record
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT s.role, s.slot, coalesce(d.datname::text, ''), s.state,
           (s.pid IS NOT NULL)::integer,
           coalesce(extract(epoch FROM clock_timestamp() - s.state_since), 0)::double precision,
           s.items_processed
      FROM duroxide.get_runtime_status() s
      LEFT JOIN pg_catalog.pg_database d ON d.oid = s.database
     ORDER BY s.role, d.datname, s.slot
$fn$;
COMMENT ON FUNCTION duroxide.monitoring_processes() IS
    'Every duroxide process of the server (as runtime_status, without current work or errors): '
    'role, slot, database, state, whether it has a process (up), seconds in its state and items '
    'processed. For monitoring (pg_monitor).';

CREATE OR REPLACE FUNCTION duroxide.monitoring_metrics(OUT metric text, OUT bucket text, OUT value bigint)
    RETURNS SETOF record
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT m.metric, coalesce(m.bucket, ''), m.value FROM duroxide.get_metrics() m
$fn$;
COMMENT ON FUNCTION duroxide.monitoring_metrics() IS
    'The duroxide.metrics counters and histogram buckets (bucket '''' for plain counters). For '
    'monitoring (pg_monitor).';

REVOKE ALL ON FUNCTION duroxide.monitoring_queues(), duroxide.monitoring_instances(),
    duroxide.monitoring_processes(), duroxide.monitoring_metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.monitoring_queues(), duroxide.monitoring_instances(),
    duroxide.monitoring_processes(), duroxide.monitoring_metrics() TO duroxide_admin, pg_monitor;
GRANT USAGE ON SCHEMA duroxide TO pg_monitor;
