-- Start this database's workers when CREATE EXTENSION commits.
CREATE OR REPLACE FUNCTION duroxide_internal.activate_database() RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_activate_database';
COMMENT ON FUNCTION duroxide_internal.activate_database() IS
    'Internal: ask the launcher to start this database''s workers when the transaction commits.';
