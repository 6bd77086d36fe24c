-- Sub-orchestration ids through the workers (issue 18, defect 5): the SQL API's rules are
-- checked when a child is scheduled, a child may not take its parent's id, and a parent whose
-- chosen id is taken by an instance that is not its child is told so instead of waiting.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
SELECT duroxide.register_plugin('duroxide_sample') > 0 AS registered;

SELECT duroxide.start_orchestration('nc-empty', 'NamedChild', '');
SELECT duroxide.start_orchestration('nc-long', 'NamedChild', repeat('k', 300));
SELECT duroxide.start_orchestration('nc-self', 'NamedChild', 'nc-self');
SELECT id, w.status, w.error->'Application'->>'message' AS message
  FROM unnest(ARRAY['nc-empty', 'nc-long', 'nc-self']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') w ORDER BY id;
-- Each failed at its first turn: no child call recorded, no child created.
SELECT instance, string_agg(event_type, ', ' ORDER BY event_id) AS history
  FROM unnest(ARRAY['nc-empty', 'nc-long', 'nc-self']) AS instance,
       LATERAL duroxide.read_history(instance)
 GROUP BY instance ORDER BY instance;
SELECT count(*) AS bad_ids FROM duroxide.instances
 WHERE instance_id = '' OR octet_length(instance_id) > 256;

-- A taken id: the call fails (the code sees it and says so), the other instance is untouched.
SELECT duroxide.start_orchestration('nc-taken-root', 'WaitForGo', '');
DO $$
BEGIN
    FOR i IN 1..3000 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM duroxide.read_history('nc-taken-root')
                           WHERE event_type = 'ExternalSubscribed');
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT duroxide.start_orchestration('nc-taken', 'NamedChild', 'nc-taken-root');
SELECT status, output FROM duroxide.wait_for_orchestration('nc-taken', '30 s');
SELECT event_id, event_type FROM duroxide.read_history('nc-taken');
SELECT status, orchestration_name FROM duroxide.get_orchestration_status('nc-taken-root');
SELECT duroxide.cancel_instance('nc-taken-root', 'done');
SELECT status FROM duroxide.wait_for_orchestration('nc-taken-root', '30 s');

-- A valid explicit id works as before.
SELECT duroxide.start_orchestration('nc-ok', 'NamedChild', 'nc-ok-kid');
SELECT status, output FROM duroxide.wait_for_orchestration('nc-ok', '30 s');

SELECT duroxide.unregister_plugin('duroxide_sample');
