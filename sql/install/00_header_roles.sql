-- duroxide install script, part 00 (the Makefile builds sql/duroxide--<version>.sql from
-- sql/install/*.sql, then sql/objects/*.sql, then sql/activate.sql; sql/README.md).
-- Header, roles and schemas. Objects live in schema duroxide (created by CREATE EXTENSION
-- from the control file); internal helpers live in duroxide_internal. PUBLIC gets nothing.
\echo Use "CREATE EXTENSION duroxide" to load this file. \quit

-- Roles are cluster-wide and may already exist from another database's install. A role of that
-- name that someone else created beforehand (anyone with CREATEROLE can) would hand whatever the
-- extension grants it to its creator, so an existing one is used only if it looks like one this
-- script creates: NOLOGIN, no SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS, no
-- role-level settings, and a member of no other role (docs/operations.md, Threat model).
DO $roles$
DECLARE
    r record;
    problems text[];
BEGIN
    FOR r IN SELECT a.* FROM pg_catalog.pg_roles a
              WHERE a.rolname IN ('duroxide_admin', 'duroxide_user', 'duroxide_worker')
              ORDER BY a.rolname LOOP
        problems := array_remove(ARRAY[
            CASE WHEN r.rolcanlogin THEN 'LOGIN' END,
            CASE WHEN r.rolsuper THEN 'SUPERUSER' END,
            CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,
            CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END,
            CASE WHEN r.rolreplication THEN 'REPLICATION' END,
            CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END,
            CASE WHEN r.rolconfig IS NOT NULL THEN 'role-level settings' END,
            (SELECT 'membership in ' || string_agg(m.roleid::regrole::text, ', ' ORDER BY m.roleid)
               FROM pg_catalog.pg_auth_members m WHERE m.member = r.oid)], NULL);
        IF cardinality(problems) > 0 THEN
            RAISE EXCEPTION 'role % already exists and was not created by the duroxide install',
                    r.rolname
                USING ERRCODE = 'insufficient_privilege',
                DETAIL = 'It has ' || array_to_string(problems, ', ') || '; the install creates '
                      || 'it NOLOGIN, with no attributes, settings or memberships.',
                HINT = 'A superuser should check who created it, then drop it (or ALTER ROLE it '
                    || 'back to NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION '
                    || 'NOBYPASSRLS, RESET ALL, and REVOKE its memberships) and install again.';
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'duroxide_admin') THEN
        CREATE ROLE duroxide_admin NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'duroxide_user') THEN
        CREATE ROLE duroxide_user NOLOGIN;
    END IF;
    -- Remote activity workers' connections (duroxide-worker; sql/objects/84_remote_workers.sql).
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'duroxide_worker') THEN
        CREATE ROLE duroxide_worker NOLOGIN;
    END IF;
END
$roles$;

CREATE SCHEMA duroxide_internal;
