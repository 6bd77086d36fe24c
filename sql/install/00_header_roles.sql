-- duroxide install script, part 00 (the Makefile builds sql/duroxide--<version>.sql from these).
-- Header, roles and schemas. Objects live in schema duroxide (created by CREATE EXTENSION
-- from the control file); internal helpers live in duroxide_internal. PUBLIC gets nothing.
\echo Use "CREATE EXTENSION duroxide" to load this file. \quit

-- Roles are cluster-wide and may already exist from another database's install.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'duroxide_admin') THEN
        CREATE ROLE duroxide_admin NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'duroxide_user') THEN
        CREATE ROLE duroxide_user NOLOGIN;
    END IF;
END
$roles$;

REVOKE ALL ON SCHEMA duroxide FROM PUBLIC;
GRANT USAGE ON SCHEMA duroxide TO duroxide_admin, duroxide_user;

CREATE SCHEMA duroxide_internal;
REVOKE ALL ON SCHEMA duroxide_internal FROM PUBLIC;
GRANT USAGE ON SCHEMA duroxide_internal TO duroxide_admin;
COMMENT ON SCHEMA duroxide_internal IS
    'duroxide internals (self-tests, store operations for the validation suite); not a stable API';
