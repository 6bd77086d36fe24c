-- Scenario 24 end to end: activity tags and the workers' tag filters. A tagged activity runs
-- only on an activity worker whose filter admits its tag; with none, it waits (the sample
-- races it with a timer). The regression cluster has two activity workers (0 and 1).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
SELECT duroxide.register_plugin('duroxide_sample') > 0 AS registered;
SHOW duroxide.worker_tag_filter;
SHOW duroxide.worker_tag_filters;

-- After a reload: waits until both activity workers fetch with the `expected` filters (each
-- publishes its filter in duroxide.runtime_status at its next fetch) and returns them.
CREATE FUNCTION pg_temp.await_filters(expected text[]) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    seen text[];
BEGIN
    PERFORM pg_reload_conf();
    FOR i IN 1..600 LOOP
        SELECT array_agg(coalesce(tag_filter, '?') ORDER BY slot) INTO seen
          FROM duroxide.runtime_status
         WHERE role = 'activity worker' AND database = current_database();
        EXIT WHEN seen = expected;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN seen;
END $$;
SELECT pg_temp.await_filters(ARRAY['default', 'default']) AS filters;

-- Only default workers: the untagged activity runs, the tagged one never does and the timer
-- wins; its worker row is removed when the orchestration ends.
SELECT duroxide.start_orchestration('tag-starved', 'TagRoute', 'gpu|300');
SELECT duroxide.start_orchestration('tag-untagged', 'TagRoute', '|60000');
SELECT id, w.status, split_part(w.output, '@', 1) AS output
  FROM unnest(ARRAY['tag-starved', 'tag-untagged']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') w;
SELECT event_id, event_type, event->>'name' AS name, event->>'tag' AS tag,
       event->>'reason' AS reason
  FROM duroxide.read_history('tag-starved');
SELECT count(*) AS starved_rows_left FROM duroxide.worker_queue WHERE instance_id = 'tag-starved';

-- A tag over 256 bytes fails the orchestration; 256 bytes is accepted. So does a tag no
-- worker filter could name (a blank, ',', ';' or '=' in it): only an `any` worker would run it.
SELECT duroxide.start_orchestration('tag-too-long', 'TagRoute', repeat('t', 257) || '|60000');
SELECT duroxide.start_orchestration('tag-longest', 'TagRoute', repeat('t', 256) || '|300');
SELECT duroxide.start_orchestration('tag-blank', 'TagRoute', 'gpu |60000');
SELECT duroxide.start_orchestration('tag-comma', 'TagRoute', 'a,b|60000');
SELECT id, w.status, w.output, w.error->'Application'->>'message' AS error_message
  FROM unnest(ARRAY['tag-too-long', 'tag-longest', 'tag-blank', 'tag-comma']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') w;

-- Invalid filters are refused with the reason.
ALTER SYSTEM SET duroxide.worker_tag_filter = 'gpu';
ALTER SYSTEM SET duroxide.worker_tag_filter = 'tags:a,b,c,d,e,f';
ALTER SYSTEM SET duroxide.worker_tag_filter = 'default,';
ALTER SYSTEM SET duroxide.worker_tag_filters = '1=tags:gpu; 1=any';
ALTER SYSTEM SET duroxide.worker_tag_filters = '64=any';
ALTER SYSTEM SET duroxide.worker_tag_filters = 'tags:gpu';
SET duroxide.worker_tag_filter = 'any';

-- Heterogeneous workers: worker 1 runs only "gpu" activities, worker 0 only untagged ones;
-- "io" has no worker and times out.
ALTER SYSTEM SET duroxide.worker_tag_filters = '1=tags:gpu';
SELECT pg_temp.await_filters(ARRAY['default', 'tags:gpu']) AS filters;
SELECT duroxide.start_orchestration('tag-gpu', 'TagRoute', 'gpu|60000');
SELECT duroxide.start_orchestration('tag-plain', 'TagRoute', '|60000');
SELECT duroxide.start_orchestration('tag-io-starved', 'TagRoute', 'io|300');
SELECT id, w.status, w.output
  FROM unnest(ARRAY['tag-gpu', 'tag-plain', 'tag-io-starved']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') w;
SELECT event_id, event_type, event->>'name' AS name, event->>'tag' AS tag,
       event->>'result' AS result
  FROM duroxide.read_history('tag-gpu') WHERE event_type LIKE 'Activity%';

-- Retries carry the tag on every attempt (FailTwice fails twice, then succeeds on worker 1).
SELECT duroxide.start_orchestration('tag-retry', 'TagRetry', 'gpu');
SELECT status, output FROM duroxide.wait_for_orchestration('tag-retry', '30 s');
SELECT event_id, event->>'tag' AS tag
  FROM duroxide.read_history('tag-retry') WHERE event_type = 'ActivityScheduled';

-- Worker 0 takes untagged and "io" activities ("default,io"); worker 1 still only "gpu".
ALTER SYSTEM SET duroxide.worker_tag_filters = '0=default,io; 1=tags:gpu';
SELECT pg_temp.await_filters(ARRAY['default,io', 'tags:gpu']) AS filters;
SELECT duroxide.start_orchestration('tag-io', 'TagRoute', 'io|60000');
SELECT duroxide.start_orchestration('tag-plain-2', 'TagRoute', '|60000');
SELECT id, w.status, w.output
  FROM unnest(ARRAY['tag-io', 'tag-plain-2']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') w;

-- "any" on every worker: tagged and untagged activities all run.
ALTER SYSTEM RESET duroxide.worker_tag_filters;
ALTER SYSTEM SET duroxide.worker_tag_filter = 'any';
SELECT pg_temp.await_filters(ARRAY['any', 'any']) AS filters;
SELECT duroxide.start_orchestration('tag-any-gpu', 'TagRoute', 'gpu|60000');
SELECT duroxide.start_orchestration('tag-any-ml', 'TagRoute', 'ml|60000');
SELECT duroxide.start_orchestration('tag-any-plain', 'TagRoute', '|60000');
SELECT id, w.status, split_part(w.output, '@', 1) AS output
  FROM unnest(ARRAY['tag-any-gpu', 'tag-any-ml', 'tag-any-plain']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') w;

-- A tagged activity queued while no worker admits it runs once one does (no restart).
ALTER SYSTEM SET duroxide.worker_tag_filter = 'default';
SELECT pg_temp.await_filters(ARRAY['default', 'default']) AS filters;
SELECT duroxide.start_orchestration('tag-later', 'TagRoute', 'late|60000');
-- Once its activity is queued, both workers wake and look for work at least twice (each wake
-- is followed by a fetch); the activity is still not taken.
DO $$
DECLARE
    mark timestamptz;
BEGIN
    FOR i IN 1..3000 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM duroxide.worker_queue WHERE instance_id = 'tag-later');
        PERFORM pg_sleep(0.01);
    END LOOP;
    FOR round IN 1..3 LOOP
        mark := clock_timestamp();
        FOR i IN 1..3000 LOOP
            EXIT WHEN (SELECT bool_and(state_since > mark) FROM duroxide.runtime_status
                        WHERE role = 'activity worker' AND database = current_database());
            PERFORM pg_sleep(0.01);
        END LOOP;
    END LOOP;
END
$$;
SELECT status FROM duroxide.get_orchestration_status('tag-later');
SELECT attempt_count AS fetches_of_the_late_activity FROM duroxide.worker_queue
 WHERE instance_id = 'tag-later';
ALTER SYSTEM SET duroxide.worker_tag_filters = '1=tags:late';
SELECT pg_reload_conf();
SELECT status, output FROM duroxide.wait_for_orchestration('tag-later', '30 s');

ALTER SYSTEM RESET duroxide.worker_tag_filter;
ALTER SYSTEM RESET duroxide.worker_tag_filters;
SELECT pg_temp.await_filters(ARRAY['default', 'default']) AS filters;
SELECT duroxide.unregister_plugin('duroxide_sample');
