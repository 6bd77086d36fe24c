-- Installing the extension: schema, roles, version, and nothing granted to PUBLIC.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS duroxide CASCADE;  -- a suite before this one may have created it
RESET client_min_messages;
CREATE EXTENSION duroxide;

SELECT duroxide.version() = extversion AS version_matches
  FROM pg_extension WHERE extname = 'duroxide';

SELECT rolname, rolcanlogin FROM pg_roles
 WHERE rolname IN ('duroxide_admin', 'duroxide_user') ORDER BY rolname;

SELECT nspname FROM pg_namespace WHERE nspname LIKE 'duroxide%' ORDER BY nspname;

-- No function or schema of ours is usable by PUBLIC (grantee 0 in aclexplode).
SELECT count(*) AS public_function_grants
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
       LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
 WHERE n.nspname LIKE 'duroxide%' AND a.grantee = 0;
SELECT count(*) AS public_schema_grants
  FROM pg_namespace n,
       LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
 WHERE n.nspname LIKE 'duroxide%' AND a.grantee = 0;

-- The launcher started with the server and is visible like any other backend.
SELECT backend_type, application_name FROM pg_stat_activity
 WHERE backend_type = 'duroxide launcher';

-- GUCs use the reserved duroxide. prefix; unknown names under it are rejected.
SHOW duroxide.activity_workers;
SET duroxide.no_such_setting = 1;
