-- What the demo runs once the throwaway server is up: two orchestrations of the sample plugin
-- run by the background workers, with their outputs and histories.
\pset footer off
\set ON_ERROR_STOP 1
CREATE EXTENSION duroxide;
SELECT duroxide.version() AS duroxide_version;

\echo '== register the sample plugin (built with PGXS against the installed headers)'
SELECT duroxide.register_plugin('duroxide_sample') AS handlers_registered;
SELECT kind, name, version FROM duroxide.registered_handlers ORDER BY kind, name, version;

\echo '== start two orchestrations; the workers are woken when this transaction commits'
SELECT duroxide.start_orchestration('demo-hello', 'HelloWorld', 'World');
SELECT duroxide.start_orchestration('demo-fan-out', 'FanOut', 'Ada,Grace,Linus');

\echo '== wait for them (inside the server: no client polling, no external process)'
SELECT id AS instance, w.status, w.output
  FROM unnest(ARRAY['demo-hello', 'demo-fan-out']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') AS w;

\echo '== the duroxide processes inside this server'
SELECT application_name, backend_type FROM pg_stat_activity
 WHERE backend_type LIKE 'duroxide%' ORDER BY application_name;

\echo '== their histories, as duroxide recorded them'
SELECT instance, event_id, event_type,
       coalesce(event->>'name', '') AS name,
       coalesce(event->>'input', event->>'result', event->>'output', '') AS payload
  FROM unnest(ARRAY['demo-hello', 'demo-fan-out']) AS instance,
       LATERAL duroxide.read_history(instance)
 ORDER BY instance DESC, event_id;
