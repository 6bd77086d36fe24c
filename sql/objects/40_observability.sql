-- Observability: what every duroxide process is doing (docs/operations.md).
CREATE OR REPLACE FUNCTION duroxide.get_runtime_status(
    OUT role text, OUT slot integer, OUT pid integer, OUT database oid, OUT state text,
    OUT state_since timestamptz, OUT current_work text, OUT items_processed bigint,
    OUT last_error text, OUT sessions integer, OUT tag_filter text)
    RETURNS SETOF record
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_runtime_status';
COMMENT ON FUNCTION duroxide.get_runtime_status() IS
    'Rows of the duroxide.runtime_status view, read from shared memory (database as an oid).';
REVOKE ALL ON FUNCTION duroxide.get_runtime_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.get_runtime_status() TO duroxide_admin, duroxide_user;

CREATE OR REPLACE VIEW duroxide.runtime_status AS
SELECT s.role, s.slot, s.pid, d.datname AS database, s.state, s.state_since, s.current_work,
       s.items_processed, s.last_error, s.sessions, s.tag_filter
  FROM duroxide.get_runtime_status() s
  LEFT JOIN pg_catalog.pg_database d ON d.oid = s.database;
COMMENT ON VIEW duroxide.runtime_status IS
    'Every duroxide process of the server: launcher, dispatchers and activity workers, with '
    'their state, current work, items processed, last error and (activity workers) the '
    'number of sessions they own and the tag filter they fetch with.';
REVOKE ALL ON duroxide.runtime_status FROM PUBLIC;
GRANT SELECT ON duroxide.runtime_status TO duroxide_admin, duroxide_user;

CREATE OR REPLACE FUNCTION duroxide.get_metrics(OUT metric text, OUT bucket text, OUT value bigint)
    RETURNS SETOF record
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_get_metrics';
COMMENT ON FUNCTION duroxide.get_metrics() IS
    'Server-wide duroxide counters and duration histograms (microsecond buckets) since start-up '
    'or the last duroxide.reset_metrics().';
REVOKE ALL ON FUNCTION duroxide.get_metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.get_metrics() TO duroxide_admin, duroxide_user;

CREATE OR REPLACE VIEW duroxide.metrics AS SELECT metric, bucket, value FROM duroxide.get_metrics();
COMMENT ON VIEW duroxide.metrics IS
    'Counters (orchestrations, turns, activities by outcome, lock renewals and steals, wake-ups '
    'vs safety-net polls, resident cache) and turn/activity duration histograms.';
REVOKE ALL ON duroxide.metrics FROM PUBLIC;
GRANT SELECT ON duroxide.metrics TO duroxide_admin, duroxide_user;

CREATE OR REPLACE FUNCTION duroxide.reset_metrics() RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_reset_metrics';
COMMENT ON FUNCTION duroxide.reset_metrics() IS 'Sets every duroxide counter and histogram to zero.';
REVOKE ALL ON FUNCTION duroxide.reset_metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.reset_metrics() TO duroxide_admin;
