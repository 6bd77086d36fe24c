-- Registration catalog: plugins (C++ shared libraries) and SQL functions registered as
-- activities. A handler name belongs to exactly one provider.

CREATE TABLE duroxide.plugins (
    name           text PRIMARY KEY,
    path           text NOT NULL,
    abi_version    integer NOT NULL,
    registered_by  regrole NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE duroxide.plugins IS 'Registered plugin libraries; workers load every one of them.';

CREATE TABLE duroxide.plugin_handlers (
    plugin   text NOT NULL REFERENCES duroxide.plugins (name) ON DELETE CASCADE,
    kind     text NOT NULL CHECK (kind IN ('orchestration', 'activity')),
    name     text NOT NULL,
    version  text NOT NULL DEFAULT '',  -- semver for orchestrations, '' for activities
    PRIMARY KEY (kind, name, version)
);
CREATE INDEX ON duroxide.plugin_handlers (plugin);
COMMENT ON TABLE duroxide.plugin_handlers IS 'What each registered plugin provides.';

REVOKE ALL ON duroxide.plugins, duroxide.plugin_handlers FROM PUBLIC;
GRANT SELECT ON duroxide.plugins, duroxide.plugin_handlers TO duroxide_admin, duroxide_user;
GRANT INSERT, DELETE ON duroxide.plugins, duroxide.plugin_handlers TO duroxide_admin;

CREATE TABLE duroxide.sql_activities (
    name           text PRIMARY KEY,
    function_oid   regprocedure NOT NULL,
    input_type     regtype NOT NULL,
    output_type    regtype NOT NULL,
    run_as         regrole NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE duroxide.sql_activities IS
    'SQL functions usable as activities; each runs as the role that registered it (run_as).';
REVOKE ALL ON duroxide.sql_activities FROM PUBLIC;
GRANT SELECT ON duroxide.sql_activities TO duroxide_admin, duroxide_user;
GRANT INSERT, DELETE ON duroxide.sql_activities TO duroxide_admin;

-- SECURITY INVOKER on purpose: the registering role is current_user, and it is the role the
-- activity will run as.
CREATE FUNCTION duroxide.register_sql_activity(name text, fn regprocedure) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    p pg_catalog.pg_proc%ROWTYPE;
BEGIN
    IF name IS NULL OR fn IS NULL THEN
        RAISE EXCEPTION 'name and fn must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF length(name) = 0 OR octet_length(name) > 256 OR name ~ '[[:cntrl:]]' THEN
        RAISE EXCEPTION 'invalid activity name "%"', name USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Names are 1 to 256 bytes without control characters.';
    END IF;
    IF starts_with(name, '__duroxide_syscall:') THEN
        RAISE EXCEPTION 'activity names starting with "__duroxide_syscall:" are reserved'
            USING ERRCODE = 'reserved_name';
    END IF;
    SELECT * INTO p FROM pg_catalog.pg_proc WHERE oid = fn;
    IF p.prokind <> 'f' OR p.proretset OR p.pronargs <> 1
       OR p.proargtypes[0] NOT IN ('text'::regtype, 'jsonb'::regtype)
       OR p.prorettype NOT IN ('text'::regtype, 'jsonb'::regtype) THEN
        RAISE EXCEPTION 'function % cannot be an activity', fn
            USING ERRCODE = 'invalid_function_definition',
            DETAIL = 'An SQL activity takes one text or jsonb argument and returns text or jsonb '
                  || '(not a set, not a procedure or aggregate).';
    END IF;
    IF NOT has_function_privilege(current_user, fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'permission denied to execute function %', fn
            USING ERRCODE = 'insufficient_privilege',
            HINT = 'The activity runs as the role that registers it, which must be able to call it.';
    END IF;
    IF EXISTS (SELECT 1 FROM duroxide.plugin_handlers h
                WHERE h.kind = 'activity' AND h.name = register_sql_activity.name) THEN
        RAISE EXCEPTION 'activity "%" is already provided by a plugin', name
            USING ERRCODE = 'duplicate_object';
    END IF;
    INSERT INTO duroxide.sql_activities (name, function_oid, input_type, output_type, run_as)
    VALUES (name, fn, p.proargtypes[0], p.prorettype, current_user::regrole);
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'activity "%" is already registered', name USING ERRCODE = 'duplicate_object',
        HINT = 'Use duroxide.unregister_sql_activity first to replace it.';
END
$fn$;
COMMENT ON FUNCTION duroxide.register_sql_activity(text, regprocedure) IS
    'Makes a SQL function (one text or jsonb argument, text or jsonb result) the activity "name". '
    'It runs as the registering role, in the same transaction as its completion.';
REVOKE ALL ON FUNCTION duroxide.register_sql_activity(text, regprocedure) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.register_sql_activity(text, regprocedure) TO duroxide_admin;

CREATE FUNCTION duroxide.unregister_sql_activity(name text) RETURNS boolean
    LANGUAGE sql VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH gone AS (DELETE FROM duroxide.sql_activities a WHERE a.name = unregister_sql_activity.name
                      RETURNING 1)
        SELECT count(*) > 0 FROM gone;
    END;
COMMENT ON FUNCTION duroxide.unregister_sql_activity(text) IS
    'Removes the SQL activity "name"; returns whether it existed.';
REVOKE ALL ON FUNCTION duroxide.unregister_sql_activity(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.unregister_sql_activity(text) TO duroxide_admin;

CREATE FUNCTION duroxide.register_plugin(name text) RETURNS integer
    LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_register_plugin';
COMMENT ON FUNCTION duroxide.register_plugin(text) IS
    'Loads the plugin library "name" (from $libdir or duroxide.plugin_directories), checks its '
    'ABI version and records the orchestrations and activities it provides; returns how many. '
    'Loading a plugin runs its code in the server: duroxide_admin only.';
REVOKE ALL ON FUNCTION duroxide.register_plugin(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.register_plugin(text) TO duroxide_admin;

CREATE FUNCTION duroxide.unregister_plugin(name text) RETURNS boolean
    LANGUAGE sql VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH gone AS (DELETE FROM duroxide.plugins p WHERE p.name = unregister_plugin.name
                      RETURNING 1)
        SELECT count(*) > 0 FROM gone;
    END;
COMMENT ON FUNCTION duroxide.unregister_plugin(text) IS
    'Forgets the plugin "name" and its handlers; returns whether it was registered.';
REVOKE ALL ON FUNCTION duroxide.unregister_plugin(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.unregister_plugin(text) TO duroxide_admin;

-- Version policies: which version of an orchestration new instances get when no version is
-- given (at start, for sub-orchestrations and continue-as-new without one). Rows are updated,
-- never deleted (NULL = latest), so workers see every change by max(set_at).
CREATE TABLE duroxide.version_policies (
    orchestration  text PRIMARY KEY,
    version        text,
    set_by         regrole NOT NULL,
    set_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE duroxide.version_policies IS
    'Version policies set with duroxide.set_version_policy (version NULL: the latest registered).';
REVOKE ALL ON duroxide.version_policies FROM PUBLIC;
GRANT SELECT ON duroxide.version_policies TO duroxide_admin, duroxide_user;

-- The role a call acts for: inside a SECURITY DEFINER function current_user is the owner; this
-- is the session's current role (after SET ROLE) that called it (src/sql_api/access.hpp).
CREATE FUNCTION duroxide._calling_role() RETURNS regrole
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'duroxide_calling_role';
REVOKE ALL ON FUNCTION duroxide._calling_role() FROM PUBLIC;

-- SECURITY DEFINER: no role may write version_policies directly, so every row is validated
-- here (EXECUTE is for duroxide_admin only).
CREATE FUNCTION duroxide.set_version_policy(orchestration text, version text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    registered text;
BEGIN
    IF orchestration IS NULL THEN
        RAISE EXCEPTION 'orchestration must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT string_agg(h.version, ', ' ORDER BY string_to_array(h.version, '.')::int[])
      INTO registered
      FROM duroxide.plugin_handlers h
     WHERE h.kind = 'orchestration' AND h.name = set_version_policy.orchestration;
    IF registered IS NULL THEN
        RAISE EXCEPTION 'orchestration "%" is not registered', orchestration
            USING ERRCODE = 'undefined_object';
    END IF;
    IF version IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM duroxide.plugin_handlers h
             WHERE h.kind = 'orchestration' AND h.name = set_version_policy.orchestration
               AND h.version = set_version_policy.version) THEN
        RAISE EXCEPTION 'version "%" of orchestration "%" is not registered', version, orchestration
            USING ERRCODE = 'undefined_object', DETAIL = 'Registered versions: ' || registered || '.';
    END IF;
    INSERT INTO duroxide.version_policies AS p (orchestration, version, set_by)
    VALUES (orchestration, version, duroxide._calling_role())
    ON CONFLICT ON CONSTRAINT version_policies_pkey DO UPDATE
       SET version = excluded.version, set_by = excluded.set_by, set_at = clock_timestamp();
END
$fn$;
COMMENT ON FUNCTION duroxide.set_version_policy(text, text) IS
    'Sets which version of orchestration "orchestration" new instances get when none is given: '
    'version (a registered one), or NULL for the latest. Running dispatchers apply it at their '
    'next fetch; running instances keep their version.';
REVOKE ALL ON FUNCTION duroxide.set_version_policy(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.set_version_policy(text, text) TO duroxide_admin;

CREATE VIEW duroxide.registered_handlers AS
SELECT h.kind, h.name, NULLIF(h.version, '') AS version, 'plugin'::text AS provider_type,
       h.plugin AS provider,
       CASE WHEN h.kind = 'orchestration' THEN coalesce(p.version, 'latest') END
           AS version_policy,
       CASE WHEN h.kind = 'orchestration' THEN h.version = coalesce(p.version,
           (SELECT l.version FROM duroxide.plugin_handlers l
             WHERE l.kind = 'orchestration' AND l.name = h.name
             ORDER BY string_to_array(l.version, '.')::int[] DESC LIMIT 1)) END
           AS default_version
  FROM duroxide.plugin_handlers h
  LEFT JOIN duroxide.version_policies p ON h.kind = 'orchestration' AND p.orchestration = h.name
UNION ALL
SELECT 'activity', a.name, NULL, 'sql', a.function_oid::text, NULL, NULL
  FROM duroxide.sql_activities a;
COMMENT ON VIEW duroxide.registered_handlers IS
    'Every orchestration and activity the runtime can run, with its version and provider '
    '(a plugin, or an SQL function); for orchestrations, the version policy (latest, or the '
    'exact version set by duroxide.set_version_policy) and whether this is the version new '
    'instances get when none is given (default_version).';
REVOKE ALL ON duroxide.registered_handlers FROM PUBLIC;
GRANT SELECT ON duroxide.registered_handlers TO duroxide_admin, duroxide_user;
