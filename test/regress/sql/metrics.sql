-- duroxide.metrics: every counter and histogram bucket, and a reset.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
SELECT metric, bucket FROM duroxide.metrics ORDER BY metric, bucket COLLATE "C";
SELECT duroxide.reset_metrics();
SELECT count(*) AS nonzero_after_reset
  FROM duroxide.metrics
 WHERE value <> 0 AND metric NOT IN ('wake_ups', 'safety_net_polls');
-- Idle workers wake up by the safety-net poll (every duroxide.poll_interval; polled here for
-- up to 30 s).
DO $$
BEGIN
    FOR i IN 1..300 LOOP
        EXIT WHEN (SELECT value > 0 FROM duroxide.metrics WHERE metric = 'safety_net_polls');
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
SELECT value > 0 AS idle_workers_poll FROM duroxide.metrics WHERE metric = 'safety_net_polls';
-- Reset is for admins only.
CREATE ROLE metrics_user IN ROLE duroxide_user;
SET ROLE metrics_user;
SELECT count(*) > 0 AS user_reads FROM duroxide.metrics;
SELECT duroxide.reset_metrics();
RESET ROLE;
DROP ROLE metrics_user;
