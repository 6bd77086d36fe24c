-- What the demo runs once the throwaway server is up.
\pset footer off
CREATE EXTENSION duroxide;
SELECT duroxide.version() AS duroxide_version;
SELECT pid, backend_type, state FROM pg_stat_activity WHERE backend_type LIKE 'duroxide%';
