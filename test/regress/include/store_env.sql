-- The provider validation suites' database and helpers, included (with ECHO none) by every
-- test/regress/sql/store_*.sql, so that each suite runs alone or in any order:
--   \getenv abs_srcdir PG_ABS_SRCDIR
--   \set ECHO none
--   \i :abs_srcdir/include/store_env.sql
--   \set ECHO all
-- A database of its own where the extension is installed but duroxide's workers do not serve
-- (duroxide.run_workers = off), so that nothing but the tests touches its queues; the tests
-- drive the store through the probes of the test-only extension duroxide_test
-- (test/probes/store_probe.cpp). Helpers in schema pv (made anew each time) build duroxide
-- JSON and keep the leases the tests hold (table pv.held). Leaves the session connected to
-- duroxide_store. store_management drops the database at its end.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
SELECT NOT EXISTS (SELECT FROM pg_database WHERE datname = 'duroxide_store') AS store_missing \gset
\if :store_missing
CREATE DATABASE duroxide_store;
ALTER DATABASE duroxide_store SET duroxide.run_workers = off;
\endif
\c duroxide_store
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;
CREATE EXTENSION IF NOT EXISTS duroxide_test;
\if :store_missing
-- The workers started at CREATE EXTENSION leave this database at once: wait until they have
-- come and gone (at most 10 s; they may also be gone before the first look).
DO $$
DECLARE seen boolean := false;
BEGIN
    FOR i IN 1..500 LOOP
        IF EXISTS (SELECT 1 FROM duroxide.runtime_status r WHERE r.database = current_database()) THEN
            seen := true;
        ELSIF seen THEN
            EXIT;
        END IF;
        PERFORM pg_sleep(0.02);
    END LOOP;
END $$;
\endif
DROP SCHEMA IF EXISTS pv CASCADE;
CREATE SCHEMA pv;
-- Leases held by the tests: 'orch' instance locks by instance, 'work' activity leases by
-- "instance#activity_id".
CREATE TABLE pv.held (kind text, key text, token text, id bigint, work_item jsonb,
                      seq bigserial, PRIMARY KEY (kind, key));

CREATE FUNCTION pv.reset() RETURNS void LANGUAGE sql AS $$
    DELETE FROM duroxide.history; DELETE FROM duroxide.executions; DELETE FROM duroxide.instances;
    DELETE FROM duroxide.orchestrator_queue; DELETE FROM duroxide.worker_queue;
    DELETE FROM duroxide.instance_locks; DELETE FROM duroxide.session_locks; DELETE FROM pv.held;
    DELETE FROM duroxide.kv_store; DELETE FROM duroxide.kv_delta;
$$;
-- Runs a statement; returns 'ok' or the SQLSTATE and message of its error (rolled back).
CREATE FUNCTION pv.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE FUNCTION pv.now_ms() RETURNS bigint LANGUAGE sql VOLATILE
    RETURN (extract(epoch FROM clock_timestamp()) * 1000)::bigint;

-- Work items (orchestrator and worker queue messages).
CREATE FUNCTION pv.start(instance text, name text DEFAULT 'O', parent text DEFAULT NULL,
                         execution_id bigint DEFAULT 1) RETURNS jsonb LANGUAGE sql
    RETURN jsonb_build_object('StartOrchestration', jsonb_build_object(
        'instance', instance, 'orchestration', name, 'input', '', 'version', NULL,
        'parent_instance', parent, 'parent_id', CASE WHEN parent IS NOT NULL THEN 1 END,
        'execution_id', execution_id));
CREATE FUNCTION pv.raised(instance text, name text, data text DEFAULT '') RETURNS jsonb
    LANGUAGE sql RETURN jsonb_build_object('ExternalRaised',
        jsonb_build_object('instance', instance, 'name', name, 'data', data));
CREATE FUNCTION pv.queued(instance text, name text, data text DEFAULT '') RETURNS jsonb
    LANGUAGE sql RETURN jsonb_build_object('QueueMessage',
        jsonb_build_object('instance', instance, 'name', name, 'data', data));
CREATE FUNCTION pv.cancel(instance text) RETURNS jsonb LANGUAGE sql
    RETURN jsonb_build_object('CancelInstance', jsonb_build_object('instance', instance, 'reason', 'test'));
CREATE FUNCTION pv.timer_fired(instance text, id bigint, fire_at_ms bigint, execution_id bigint DEFAULT 1)
    RETURNS jsonb LANGUAGE sql RETURN jsonb_build_object('TimerFired', jsonb_build_object(
        'instance', instance, 'execution_id', execution_id, 'id', id, 'fire_at_ms', fire_at_ms));
CREATE FUNCTION pv.activity_done(instance text, id bigint, result text DEFAULT 'ok',
                                 execution_id bigint DEFAULT 1) RETURNS jsonb LANGUAGE sql
    RETURN jsonb_build_object('ActivityCompleted', jsonb_build_object(
        'instance', instance, 'execution_id', execution_id, 'id', id, 'result', result));
CREATE FUNCTION pv.sub_done(parent text, parent_id bigint, result text DEFAULT 'ok') RETURNS jsonb
    LANGUAGE sql RETURN jsonb_build_object('SubOrchCompleted', jsonb_build_object(
        'parent_instance', parent, 'parent_execution_id', 1, 'parent_id', parent_id, 'result', result));
CREATE FUNCTION pv.activity(instance text, id bigint, name text DEFAULT 'A',
                            session text DEFAULT NULL, execution_id bigint DEFAULT 1) RETURNS jsonb
    LANGUAGE sql RETURN jsonb_build_object('ActivityExecute', jsonb_build_object(
        'instance', instance, 'execution_id', execution_id, 'id', id, 'name', name, 'input', '',
        'session_id', session, 'tag', NULL));
CREATE FUNCTION pv.cancelled(instance text, id bigint, execution_id bigint DEFAULT 1) RETURNS jsonb
    LANGUAGE sql RETURN jsonb_build_object('instance', instance, 'execution_id', execution_id,
                                           'activity_id', id);

-- History events.
CREATE FUNCTION pv.ev(instance text, event_id bigint, type text, fields jsonb DEFAULT '{}',
                      execution_id bigint DEFAULT 1) RETURNS jsonb LANGUAGE sql
    RETURN jsonb_build_object('event_id', event_id, 'source_event_id', NULL,
        'instance_id', instance, 'execution_id', execution_id, 'timestamp_ms', 0,
        'duroxide_version', '0.1.0', 'type', type) || fields;
CREATE FUNCTION pv.started(instance text, name text DEFAULT 'O', execution_id bigint DEFAULT 1)
    RETURNS jsonb LANGUAGE sql RETURN pv.ev(instance, 1, 'OrchestrationStarted',
        jsonb_build_object('name', name, 'version', '1.0.0', 'input', '', 'parent_instance', NULL,
                           'parent_id', NULL), execution_id);
CREATE FUNCTION pv.scheduled(instance text, id bigint, name text DEFAULT 'A') RETURNS jsonb
    LANGUAGE sql RETURN pv.ev(instance, id, 'ActivityScheduled',
                              jsonb_build_object('name', name, 'input', ''));
CREATE FUNCTION pv.custom_status(instance text, id bigint, status text) RETURNS jsonb
    LANGUAGE sql RETURN pv.ev(instance, id, 'CustomStatusUpdated', jsonb_build_object('status', status));
CREATE FUNCTION pv.completed(instance text, id bigint, output text DEFAULT 'done',
                             execution_id bigint DEFAULT 1) RETURNS jsonb LANGUAGE sql
    RETURN pv.ev(instance, id, 'OrchestrationCompleted', jsonb_build_object('output', output),
                 execution_id);

CREATE FUNCTION pv.enqueue(item jsonb) RETURNS void LANGUAGE sql
    RETURN duroxide_internal.store_enqueue_orchestrator(item);

-- Fetches orchestration batches as `owner`, keeps their locks in pv.held.
CREATE FUNCTION pv.fetch(owner bigint DEFAULT -1, lock_ms integer DEFAULT 30000,
                         max_items integer DEFAULT 1)
    RETURNS TABLE (instance text, attempt_count integer, instance_exists boolean,
                   execution_id bigint, messages text[], history text[])
    LANGUAGE plpgsql AS $$
DECLARE b record;
BEGIN
    FOR b IN SELECT * FROM duroxide_internal.store_fetch_orchestration_items(owner, lock_ms, max_items)
              ORDER BY 1 LOOP
        INSERT INTO pv.held (kind, key, token) VALUES ('orch', b.instance, b.lock_token)
            ON CONFLICT (kind, key) DO UPDATE SET token = excluded.token;
        instance := b.instance; attempt_count := b.attempt_count;
        instance_exists := b.instance_exists; execution_id := b.execution_id;
        -- Messages by kind (and event name or id), history by event type.
        SELECT array_agg(k || coalesce(':' || coalesce(v->>'name', v->>'id', v->>'parent_id'), '')
                         ORDER BY o)
          INTO messages FROM jsonb_array_elements(b.messages) WITH ORDINALITY AS m(j, o),
               LATERAL jsonb_each(m.j) AS e(k, v);
        SELECT array_agg(h->>'type' ORDER BY o) INTO history
          FROM jsonb_array_elements(b.history) WITH ORDINALITY AS x(h, o);
        RETURN NEXT;
    END LOOP;
END $$;

CREATE FUNCTION pv.token(instance text) RETURNS text LANGUAGE sql
    RETURN (SELECT token FROM pv.held WHERE kind = 'orch' AND key = instance);

CREATE FUNCTION pv.ack(instance text, delta jsonb DEFAULT '[]', worker_items jsonb DEFAULT '[]',
                       orchestrator_items jsonb DEFAULT '[]', status text DEFAULT 'Running',
                       cancelled jsonb DEFAULT '[]', name text DEFAULT NULL,
                       execution_id bigint DEFAULT 1, output text DEFAULT NULL,
                       parent text DEFAULT NULL) RETURNS void LANGUAGE sql
    RETURN duroxide_internal.store_ack_orchestration_item(instance, pv.token(instance),
        execution_id => execution_id, history_delta => delta, worker_items => worker_items,
        orchestrator_items => orchestrator_items, status => status, output => output,
        cancelled_activities => cancelled, orchestration_name => name,
        orchestration_version => CASE WHEN name IS NOT NULL THEN '1.0.0' END,
        parent_instance => parent);

CREATE FUNCTION pv.abandon(instance text, delay_ms bigint DEFAULT 0,
                           ignore_attempt boolean DEFAULT false) RETURNS void LANGUAGE sql
    RETURN duroxide_internal.store_abandon_orchestration_item(instance, pv.token(instance),
                                                              delay_ms, ignore_attempt);

-- A running instance: started through the queue, first turn recorded (OrchestrationStarted,
-- optionally scheduling activities 2, 3, ... as worker items).
CREATE FUNCTION pv.create_instance(instance text, activities integer DEFAULT 0,
                                   parent text DEFAULT NULL, session text DEFAULT NULL)
    RETURNS void LANGUAGE plpgsql AS $$
DECLARE got text;
BEGIN
    PERFORM pv.enqueue(pv.start(instance, parent => parent));
    SELECT f.instance INTO got FROM pv.fetch() f;
    IF got IS DISTINCT FROM instance THEN
        RAISE EXCEPTION 'create_instance(%): fetched % instead', instance, got;
    END IF;
    PERFORM pv.ack(instance,
        delta => jsonb_build_array(pv.started(instance)) ||
                 coalesce((SELECT jsonb_agg(pv.scheduled(instance, i + 1) ORDER BY i)
                             FROM generate_series(1, activities) i), '[]'),
        worker_items => coalesce((SELECT jsonb_agg(pv.activity(instance, i + 1, session => session) ORDER BY i)
                                    FROM generate_series(1, activities) i), '[]'),
        name => 'O', parent => parent);
END $$;

-- Fetches an activity as `owner` (with a session owner id: one that takes session work),
-- keeps its lease in pv.held under "instance#activity_id".
CREATE FUNCTION pv.fetch_work(owner bigint DEFAULT -1, lock_ms integer DEFAULT 30000,
                              session_owner text DEFAULT NULL, max_sessions integer DEFAULT 10,
                              session_lock_ms integer DEFAULT 30000,
                              tag_filter text DEFAULT 'default')
    RETURNS TABLE (item text, attempt_count integer, session_id text, session_continued boolean,
                   lost_session_race boolean)
    LANGUAGE plpgsql AS $$
DECLARE w record;
BEGIN
    FOR w IN SELECT * FROM duroxide_internal.store_fetch_work_item(owner, lock_ms, session_owner,
                                                                   session_lock_ms, max_sessions,
                                                                   tag_filter) LOOP
        item := (w.work_item->'ActivityExecute'->>'instance') || '#' ||
                (w.work_item->'ActivityExecute'->>'id');
        IF w.id IS NOT NULL THEN
            INSERT INTO pv.held (kind, key, token, id, work_item)
                VALUES ('work', item, w.lock_token, w.id, w.work_item)
                ON CONFLICT (kind, key) DO UPDATE SET token = excluded.token, id = excluded.id;
        END IF;
        attempt_count := w.attempt_count; session_id := w.work_item->'ActivityExecute'->>'session_id';
        session_continued := w.session_continued; lost_session_race := w.lost_session_race;
        RETURN NEXT;
    END LOOP;
END $$;

CREATE FUNCTION pv.ack_work(item text, result text DEFAULT 'ok', owner bigint DEFAULT -1,
                            session_owner text DEFAULT NULL, session_lock_ms integer DEFAULT 30000)
    RETURNS void LANGUAGE sql
    RETURN (SELECT duroxide_internal.store_ack_work_item(h.id, h.token, h.work_item,
                pv.activity_done(h.work_item->'ActivityExecute'->>'instance',
                                 (h.work_item->'ActivityExecute'->>'id')::bigint, result,
                                 (h.work_item->'ActivityExecute'->>'execution_id')::bigint),
                owner, session_owner, session_lock_ms)
              FROM pv.held h WHERE h.kind = 'work' AND h.key = item);
CREATE FUNCTION pv.renew_work(item text, lock_ms integer DEFAULT 30000) RETURNS boolean
    LANGUAGE sql RETURN (SELECT duroxide_internal.store_renew_work_item_lock(h.id, h.token, lock_ms)
                           FROM pv.held h WHERE h.kind = 'work' AND h.key = item);
CREATE FUNCTION pv.abandon_work(item text, delay_ms bigint DEFAULT 0,
                                ignore_attempt boolean DEFAULT false) RETURNS boolean
    LANGUAGE sql RETURN (SELECT duroxide_internal.store_abandon_work_item(h.id, h.token, delay_ms,
                                                                          ignore_attempt)
                           FROM pv.held h WHERE h.kind = 'work' AND h.key = item);

-- What the queues hold, compactly.
CREATE VIEW pv.orchestrator_queue AS
SELECT q.instance_id, (SELECT k FROM jsonb_object_keys(q.work_item::jsonb) k) AS kind,
       q.attempt_count + c.claimed::int AS attempt_count, c.claimed,
       q.visible_at > clock_timestamp() AS delayed
  FROM duroxide.orchestrator_queue q
  -- Claimed: in the claim of an instance lock not released. The fetch does not write the
  -- message; its attempt in progress is counted here as the fetch reports it.
  CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM duroxide.instance_locks l
                                      WHERE l.instance_id = q.instance_id
                                        AND l.lock_token IS NOT NULL
                                        AND q.id = ANY (l.claimed)) AS claimed) c
 ORDER BY q.id;
CREATE VIEW pv.worker_queue AS
SELECT w.instance_id, w.execution_id, w.activity_id, w.session_id, w.attempt_count,
       w.lock_token IS NOT NULL AND w.locked_until > clock_timestamp() AS leased
  FROM duroxide.worker_queue w ORDER BY w.id;

RESET client_min_messages;
