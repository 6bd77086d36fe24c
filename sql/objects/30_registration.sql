-- Registration catalog: plugins (C++ shared libraries) and SQL functions registered as
-- activities. A handler name belongs to exactly one provider.
-- Nobody writes these tables directly (PUBLIC, duroxide_admin and duroxide_user hold no INSERT,
-- UPDATE, DELETE or TRUNCATE): every row goes through a validating SECURITY DEFINER function
-- below that records its caller itself. The workers trust registered_by / run_as and
-- registered_by_superuser only because of that (docs/operations.md, Threat model).

-- The role a call acts for: inside a SECURITY DEFINER function current_user is the owner; this
-- is the session's current role (after SET ROLE) that called it (src/sql_api/access.hpp).
CREATE OR REPLACE FUNCTION duroxide._calling_role() RETURNS regrole
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'duroxide_calling_role';
REVOKE ALL ON FUNCTION duroxide._calling_role() FROM PUBLIC;

-- Raises unless the calling role is a superuser or has the privileges of duroxide_admin (EXECUTE
-- on a registration function may have been passed on through a function of an administrator).
CREATE OR REPLACE FUNCTION duroxide._require_admin(what text) RETURNS void
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF NOT pg_has_role(duroxide._calling_role(), 'duroxide_admin', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied to %', what USING ERRCODE = 'insufficient_privilege',
            HINT = 'Only members of duroxide_admin (and superusers) may do this.';
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._require_admin(text) FROM PUBLIC;

-- The allow-list of an activity as stored: sorted, without duplicates; NULL or empty is NULL
-- (the default: the registrant's roles and duroxide_admin only).
CREATE OR REPLACE FUNCTION duroxide._allowed_roles(allowed_roles regrole[]) RETURNS regrole[]
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF array_position(allowed_roles, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'allowed_roles must not contain NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF coalesce(cardinality(allowed_roles), 0) = 0 THEN
        RETURN NULL;
    END IF;
    RETURN ARRAY(SELECT DISTINCT r FROM unnest(allowed_roles) AS r ORDER BY r);
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._allowed_roles(regrole[]) FROM PUBLIC;

-- Whether an instance owned by `caller` may call an activity registered by `registrant` with
-- the allow-list `allowed`: a superuser or member of duroxide_admin always; otherwise a role with
-- the privileges of the registrant or of one of the allowed roles. A role that no longer exists
-- may call nothing. The workers check it when they run an activity; registered_handlers shows a
-- duroxide_user only what it passes.
CREATE OR REPLACE FUNCTION duroxide._may_call_activity(caller oid, registrant oid, allowed regrole[])
    RETURNS boolean
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    candidate oid;
BEGIN
    IF caller IS NULL OR NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE oid = caller) THEN
        RETURN false;
    END IF;
    IF pg_has_role(caller, 'duroxide_admin', 'USAGE') THEN
        RETURN true;
    END IF;
    -- One role at a time, each checked to exist first (pg_has_role raises on a dropped role).
    FOR candidate IN SELECT registrant UNION ALL SELECT r FROM unnest(allowed) AS r LOOP
        IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE oid = candidate) THEN
            IF pg_has_role(caller, candidate, 'USAGE') THEN
                RETURN true;
            END IF;
        END IF;
    END LOOP;
    RETURN false;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._may_call_activity(oid, oid, regrole[]) FROM PUBLIC;

-- A digest of everything that decides what a function does and as whom: owner, language,
-- SECURITY DEFINER, volatility, configuration (SET clauses), source, object file and SQL body.
-- Recorded at registration; the worker recomputes it before each run (src/runtime/
-- sql_activity_registration.cpp) and refuses a function changed since.
CREATE OR REPLACE FUNCTION duroxide._function_fingerprint(fn regprocedure) RETURNS text
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'duroxide_function_fingerprint';
REVOKE ALL ON FUNCTION duroxide._function_fingerprint(regprocedure) FROM PUBLIC;
COMMENT ON TABLE duroxide.plugins IS 'Registered plugin libraries; workers load every one of them.';
COMMENT ON TABLE duroxide.plugin_handlers IS 'What each registered plugin provides.';

REVOKE ALL ON duroxide.plugins, duroxide.plugin_handlers FROM PUBLIC;
GRANT SELECT ON duroxide.plugins, duroxide.plugin_handlers TO duroxide_admin;
COMMENT ON TABLE duroxide.sql_activities IS
    'SQL functions usable as activities; each runs as the role that registered it (run_as).';
REVOKE ALL ON duroxide.sql_activities FROM PUBLIC;
GRANT SELECT ON duroxide.sql_activities TO duroxide_admin;

-- SECURITY DEFINER (nobody may write sql_activities directly): the activity runs as the calling
-- role (run_as), which must own the function (or be a superuser) and be able to execute it.
CREATE OR REPLACE FUNCTION duroxide.register_sql_activity(name text, fn regprocedure,
                                               allowed_roles regrole[] DEFAULT NULL,
                                               statement_timeout interval DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    p pg_catalog.pg_proc%ROWTYPE;
    caller regrole := duroxide._calling_role();
    caller_is_superuser boolean;
    allowed regrole[];
BEGIN
    PERFORM duroxide._require_admin('register an SQL activity');
    IF name IS NULL OR fn IS NULL THEN
        RAISE EXCEPTION 'name and fn must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF length(name) = 0 OR octet_length(name) > 256 OR name ~ '[[:cntrl:]]' THEN
        RAISE EXCEPTION 'invalid activity name "%"', left(name, 64)
            USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Names are 1 to 256 bytes without control characters.';
    END IF;
    IF starts_with(name, '__duroxide_syscall:') THEN
        RAISE EXCEPTION 'activity names starting with "__duroxide_syscall:" are reserved'
            USING ERRCODE = 'reserved_name';
    END IF;
    IF statement_timeout IS NOT NULL
       AND (statement_timeout <= interval '0' OR statement_timeout > interval '24 days') THEN
        RAISE EXCEPTION 'invalid statement_timeout %', statement_timeout
            USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'It is positive and at most 24 days '
                  || '(NULL: duroxide.activity_statement_timeout).';
    END IF;
    allowed := duroxide._allowed_roles(allowed_roles);
    SELECT * INTO p FROM pg_catalog.pg_proc WHERE oid = fn;
    IF p.prokind <> 'f' OR p.proretset OR p.pronargs <> 1
       OR p.proargtypes[0] NOT IN ('text'::regtype, 'jsonb'::regtype)
       OR p.prorettype NOT IN ('text'::regtype, 'jsonb'::regtype) THEN
        RAISE EXCEPTION 'function % cannot be an activity', fn
            USING ERRCODE = 'invalid_function_definition',
            DETAIL = 'An SQL activity takes one text or jsonb argument and returns text or jsonb '
                  || '(not a set, not a procedure or aggregate).';
    END IF;
    SELECT r.rolsuper INTO caller_is_superuser FROM pg_catalog.pg_roles r WHERE r.oid = caller;
    -- Whoever owns the function decides what it does: only its owner may make it run as itself.
    -- Superusers too: the definition digest covers this function only, not the helpers it
    -- calls, so another owner could redefine a helper and run it as the superuser.
    IF p.proowner <> caller THEN
        RAISE EXCEPTION 'function % is owned by role %, not by %', fn, p.proowner::regrole, caller
            USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'An SQL activity runs as the role that registers it, which must own its '
                  || 'function (superusers included): another owner could change what it does.',
            HINT = 'Register it as its owner, or make the registering role its owner.';
    END IF;
    IF NOT has_function_privilege(caller, fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'permission denied to execute function %', fn
            USING ERRCODE = 'insufficient_privilege',
            HINT = 'The activity runs as the role that registers it, which must be able to call it.';
    END IF;
    IF EXISTS (SELECT 1 FROM duroxide.plugin_handlers h
                WHERE h.kind = 'activity' AND h.name = register_sql_activity.name) THEN
        RAISE EXCEPTION 'activity "%" is already provided by a plugin', name
            USING ERRCODE = 'duplicate_object';
    END IF;
    INSERT INTO duroxide.sql_activities AS a
           (name, function_oid, input_type, output_type, run_as, registered_by_superuser,
            definition_hash, allowed_roles, statement_timeout)
    VALUES (name, fn, p.proargtypes[0], p.prorettype, caller, caller_is_superuser,
            duroxide._function_fingerprint(fn), allowed, statement_timeout);
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'activity "%" is already registered', name USING ERRCODE = 'duplicate_object',
        HINT = 'Use duroxide.unregister_sql_activity first to replace it.';
END
$fn$;
COMMENT ON FUNCTION duroxide.register_sql_activity(text, regprocedure, regrole[], interval) IS
    'Makes a SQL function (one text or jsonb argument, text or jsonb result) owned by the calling '
    'role the activity "name". It runs as the calling role, in the same transaction as its '
    'completion; instances of allowed_roles (default: the caller''s and duroxide_admin''s) may '
    'call it; statement_timeout bounds each run (NULL: duroxide.activity_statement_timeout).';
REVOKE ALL ON FUNCTION duroxide.register_sql_activity(text, regprocedure, regrole[], interval)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.register_sql_activity(text, regprocedure, regrole[], interval)
    TO duroxide_admin;

CREATE OR REPLACE FUNCTION duroxide.unregister_sql_activity(name text) RETURNS boolean
    LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._require_admin('unregister an SQL activity');
    DELETE FROM duroxide.sql_activities a WHERE a.name = unregister_sql_activity.name;
    RETURN FOUND;
END
$fn$;
COMMENT ON FUNCTION duroxide.unregister_sql_activity(text) IS
    'Removes the SQL activity "name"; returns whether it existed.';
REVOKE ALL ON FUNCTION duroxide.unregister_sql_activity(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.unregister_sql_activity(text) TO duroxide_admin;

-- SECURITY DEFINER (nobody may write plugins / plugin_handlers directly); the C function records
-- the calling role as registered_by.
CREATE OR REPLACE FUNCTION duroxide.register_plugin(name text, allowed_roles regrole[] DEFAULT NULL)
    RETURNS integer
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_register_plugin';
COMMENT ON FUNCTION duroxide.register_plugin(text, regrole[]) IS
    'Loads the plugin library "name" (from $libdir or duroxide.plugin_directories), checks its '
    'ABI version and records the orchestrations and activities it provides; returns how many. '
    'Its activities'' ctx.sql() runs as the calling role; instances of allowed_roles (default: '
    'the caller''s and duroxide_admin''s) may call them. Loading a plugin runs its code in the '
    'server: duroxide_admin only.';
REVOKE ALL ON FUNCTION duroxide.register_plugin(text, regrole[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.register_plugin(text, regrole[]) TO duroxide_admin;

-- SECURITY DEFINER: a new build of a registered plugin, without a server restart
-- (docs/operations.md, "Deploying a new plugin build"). The C function checks the library like
-- register_plugin, refuses one that drops an orchestration version that running instances use,
-- replaces the recorded handlers and records the caller as registered_by, in one transaction.
CREATE OR REPLACE FUNCTION duroxide.reload_plugin(name text, library text DEFAULT NULL)
    RETURNS integer
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_reload_plugin';
COMMENT ON FUNCTION duroxide.reload_plugin(text, text) IS
    'Points the registered plugin "name" at library "library" (a file name without .so, found '
    'like register_plugin''s; NULL: the file it loads now, replaced by a new file), checks its ABI '
    'and handlers (an orchestration version that running instances use must stay), records what '
    'it provides and the caller as its registrant; returns how many handlers. Workers switch at '
    'their next fetch: new turns and activities run the new code, running instances replay on it.';
REVOKE ALL ON FUNCTION duroxide.reload_plugin(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.reload_plugin(text, text) TO duroxide_admin;

CREATE OR REPLACE FUNCTION duroxide.unregister_plugin(name text) RETURNS boolean
    LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._require_admin('unregister a plugin');
    DELETE FROM duroxide.plugins p WHERE p.name = unregister_plugin.name;
    RETURN FOUND;
END
$fn$;
COMMENT ON FUNCTION duroxide.unregister_plugin(text) IS
    'Forgets the plugin "name" and its handlers; returns whether it was registered.';
REVOKE ALL ON FUNCTION duroxide.unregister_plugin(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.unregister_plugin(text) TO duroxide_admin;
COMMENT ON TABLE duroxide.version_policies IS
    'Version policies set with duroxide.set_version_policy (version NULL: the latest registered).';
REVOKE ALL ON duroxide.version_policies FROM PUBLIC;
GRANT SELECT ON duroxide.version_policies TO duroxide_admin, duroxide_user;

-- SECURITY DEFINER: no role may write version_policies directly, so every row is validated
-- here (EXECUTE is for duroxide_admin only).
CREATE OR REPLACE FUNCTION duroxide.set_version_policy(orchestration text, version text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    registered text;
BEGIN
    PERFORM duroxide._require_admin('set a version policy');
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

-- The catalog generation: the workers cache what they read from these tables (the plugins and
-- their registries, the version policies, who may call an activity) and re-read them only
-- after a committed change bumped the generation in shared memory
-- (src/sql_api/catalog_changed.cpp, docs/architecture.md "The catalog generation").
-- Statement triggers, so a change of any kind, by any path (a function above, a restore's
-- COPY, an owner's direct statement), bumps it once per statement, at commit.
CREATE OR REPLACE FUNCTION duroxide._catalog_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'duroxide_catalog_changed';
COMMENT ON FUNCTION duroxide._catalog_changed() IS
    'Internal: statement trigger of the registration catalogs; bumps the workers'' catalog generation when the transaction commits.';
REVOKE ALL ON FUNCTION duroxide._catalog_changed() FROM PUBLIC;
CREATE OR REPLACE TRIGGER plugins_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON duroxide.plugins
    FOR EACH STATEMENT EXECUTE FUNCTION duroxide._catalog_changed();
CREATE OR REPLACE TRIGGER plugin_handlers_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON duroxide.plugin_handlers
    FOR EACH STATEMENT EXECUTE FUNCTION duroxide._catalog_changed();
CREATE OR REPLACE TRIGGER sql_activities_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON duroxide.sql_activities
    FOR EACH STATEMENT EXECUTE FUNCTION duroxide._catalog_changed();
CREATE OR REPLACE TRIGGER version_policies_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON duroxide.version_policies
    FOR EACH STATEMENT EXECUTE FUNCTION duroxide._catalog_changed();
