-- duroxide.runtime_status shows the launcher and this database's workers (only those are
-- looked at: on a server of make installcheck other databases may have workers, or slots left
-- by a dropped one).
-- (Workers start when CREATE EXTENSION commits; give them up to 10 s to be up.)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
DO $$
BEGIN
    FOR i IN 1..100 LOOP
        EXIT WHEN (SELECT count(*) FROM duroxide.runtime_status
                    WHERE pid IS NOT NULL AND state IN ('idle', 'running')
                      AND (role = 'launcher' OR database = current_database())) = 4;
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
SELECT role, slot, database = current_database() AS this_database,
       pid IS NOT NULL AS has_pid, state IN ('idle', 'running') AS alive,
       items_processed >= 0 AS counts
  FROM duroxide.runtime_status
 WHERE role = 'launcher' OR database = current_database()
 ORDER BY role, slot;

-- Each worker row is a real backend of the right type.
SELECT count(*) AS matching_backends
  FROM duroxide.runtime_status r
  JOIN pg_stat_activity a USING (pid)
 WHERE a.backend_type = CASE r.role WHEN 'launcher' THEN 'duroxide launcher'
                                    WHEN 'dispatcher' THEN 'duroxide dispatcher'
                                    ELSE 'duroxide activity worker' END;

-- Readable by duroxide_user, not by a role without grants.
CREATE ROLE status_reader IN ROLE duroxide_user;
CREATE ROLE status_nobody;
SET ROLE status_reader;
SELECT count(*) > 0 AS user_sees_rows FROM duroxide.runtime_status;
SET ROLE status_nobody;
SELECT count(*) FROM duroxide.runtime_status;
RESET ROLE;
DROP ROLE status_reader;
DROP ROLE status_nobody;
