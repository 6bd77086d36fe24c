-- duroxide upgrade 0.1.0 -> 0.2.0, hand-written part (sql/README.md). The Makefile builds
-- sql/duroxide--0.1.0--0.2.0.sql from this file, then every sql/objects/*.sql (functions, views,
-- triggers, comments and grants, all CREATE OR REPLACE), then 0.1.0--0.2.0.post.sql.
-- Here: only what turns 0.1.0's tables, indexes and roles into 0.2.0's (new columns at the end
-- of a table, as ALTER TABLE ... ADD COLUMN puts them), the grants 0.1.0 gave that 0.2.0 does
-- not, and the DROPs without which a CREATE OR REPLACE of sql/objects cannot succeed.
-- test/tap/005_upgrade.pl checks that the result has the schema of a fresh install.
\echo Use "ALTER EXTENSION duroxide UPDATE" to load this file. \quit

-- Objects whose return type or columns changed (recreated by sql/objects) ------------------
DROP VIEW duroxide.runtime_status;
DROP FUNCTION duroxide.get_runtime_status();
DROP VIEW duroxide.registered_handlers;
DROP FUNCTION duroxide.start_orchestration(text, text, jsonb, text);
DROP FUNCTION duroxide.start_orchestration(text, text, text, text);
DROP FUNCTION duroxide.raise_event(text, text, text);
DROP FUNCTION duroxide.enqueue_event(text, text, text);
DROP FUNCTION duroxide.cancel_instance(text, text);
DROP FUNCTION duroxide.register_sql_activity(text, regprocedure);
DROP FUNCTION duroxide.unregister_sql_activity(text);
DROP FUNCTION duroxide.register_plugin(text);
DROP FUNCTION duroxide.unregister_plugin(text);
-- The boundary self-tests left the product (test/probes builds them for the tests only).
DROP FUNCTION duroxide_internal.selftest_throw(text);
DROP FUNCTION duroxide_internal.selftest_unwound();
DROP FUNCTION duroxide_internal.selftest_catch(text);

-- Activity sessions (docs/user-guide.md, Sessions) -----------------------------------------
CREATE TABLE duroxide.session_locks (
    instance_id       text NOT NULL,
    session_id        text NOT NULL,
    owner_id          text NOT NULL,
    locked_by         bigint NOT NULL,
    locked_until      timestamptz NOT NULL,
    last_activity_at  timestamptz NOT NULL,
    claimed_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (instance_id, session_id)
) WITH (fillfactor = 70);
CREATE INDEX session_locks_owner ON duroxide.session_locks (owner_id);
-- Session activities only: orphan cleanup and the pending counts look items up by session.
CREATE INDEX worker_queue_session ON duroxide.worker_queue (instance_id, session_id)
    WHERE session_id IS NOT NULL;

-- Explicit sessions (OrchestrationContext::open_session): the sessions each instance has open,
-- written by the ack of the turn that opened or closed them; an instance that completes,
-- fails or is cancelled has none (continue-as-new keeps them). Durable state, unlike leases.
CREATE TABLE duroxide.open_sessions (
    instance_id  text NOT NULL REFERENCES duroxide.instances (instance_id) ON DELETE CASCADE,
    session_id   text NOT NULL,
    opened_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (instance_id, session_id)
);


-- Activity tags ---------------------------------------------------------------------------
CREATE INDEX worker_queue_tag ON duroxide.worker_queue (tag, visible_at, id) WHERE tag IS NOT NULL;

-- Version policies ------------------------------------------------------------------------
CREATE TABLE duroxide.version_policies (
    orchestration  text PRIMARY KEY,
    version        text,
    set_by         regrole NOT NULL,
    set_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Durable key-value store ----------------------------------------------------------------
CREATE TABLE duroxide.kv_store (
    instance_id         text NOT NULL REFERENCES duroxide.instances ON DELETE CASCADE,
    key                 text NOT NULL,
    value               text NOT NULL,
    last_updated_at_ms  bigint NOT NULL DEFAULT 0,   -- Unix ms of the write (the turn's clock)
    PRIMARY KEY (instance_id, key)
);

CREATE TABLE duroxide.kv_delta (
    instance_id         text NOT NULL REFERENCES duroxide.instances ON DELETE CASCADE,
    key                 text NOT NULL,
    value               text,                        -- NULL: cleared (a tombstone)
    last_updated_at_ms  bigint NOT NULL,
    PRIMARY KEY (instance_id, key)
);

-- Each execution records the duroxide library that started it.
ALTER TABLE duroxide.executions ADD COLUMN duroxide_version_num integer;

-- Rewind ----------------------------------------------------------------------------------
CREATE TABLE duroxide.rewinds (
    rewind_id       bigserial PRIMARY KEY,
    instance_id     text NOT NULL REFERENCES duroxide.instances ON DELETE CASCADE,
    execution_id    bigint NOT NULL,
    reason          text NOT NULL,
    rewound_by      oid NOT NULL,
    rewound_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    error           text,     -- the ErrorDetails JSON the execution had failed with
    parent_rewind_id bigint REFERENCES duroxide.rewinds ON DELETE CASCADE  -- a child's
);
CREATE INDEX ON duroxide.rewinds (instance_id);
CREATE INDEX ON duroxide.rewinds (parent_rewind_id) WHERE parent_rewind_id IS NOT NULL;
CREATE TABLE duroxide.rewound_events (
    rewind_id   bigint NOT NULL REFERENCES duroxide.rewinds ON DELETE CASCADE,
    event_id    bigint NOT NULL,
    event_type  text NOT NULL,
    event_data  text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (rewind_id, event_id)
);

-- SQL-authored workflows -----------------------------------------------------------------
CREATE TABLE duroxide.workflow_definitions (
    name        text NOT NULL CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$'),
    version     text NOT NULL CHECK (version ~ '^[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,9}$'),
    definition  jsonb NOT NULL,
    owner_role  oid NOT NULL,  -- the role that defined the name's first version
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    defined_by  oid NOT NULL,  -- the role that defined this version (the owner or a member)
    PRIMARY KEY (name, version)
);

CREATE TABLE duroxide.workflow_grants (
    name        text NOT NULL,
    grantee     oid NOT NULL,
    granted_by  oid NOT NULL,
    granted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (name, grantee)
);

CREATE TABLE duroxide.workflow_version_policies (
    name        text PRIMARY KEY,
    version     text NOT NULL,
    set_by      oid NOT NULL,
    set_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE duroxide.workflow_instances (
    instance_id text PRIMARY KEY,
    name        text,   -- NULL for an ad-hoc definition
    version     text,
    labels      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object')
);

CREATE INDEX ON duroxide.workflow_instances (name, version);

-- Registration catalog (security) ----------------------------------------------------------
-- Nobody writes the registration tables directly any more, and duroxide_user reads them only
-- through registered_handlers. Rows from before cannot be told from rows an administrator wrote
-- directly, so they get registered_by_superuser = false (a registration made by a superuser must
-- be made again by one before it runs as a superuser) and, to keep working as they did, every
-- duroxide_user may call their activities (allowed_roles).
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON duroxide.plugins, duroxide.plugin_handlers,
    duroxide.sql_activities FROM duroxide_admin, duroxide_user;
REVOKE SELECT ON duroxide.plugins, duroxide.plugin_handlers, duroxide.sql_activities
    FROM duroxide_user;
ALTER TABLE duroxide.plugins
    ADD COLUMN registered_by_superuser boolean NOT NULL DEFAULT false,
    ADD COLUMN allowed_roles regrole[],
    ADD COLUMN library text,
    ADD COLUMN reloaded_at timestamptz;
UPDATE duroxide.plugins SET allowed_roles = '{duroxide_user}', library = name;
ALTER TABLE duroxide.plugins ALTER COLUMN library SET NOT NULL;
-- definition_hash is filled (and made NOT NULL) by 0.1.0--0.2.0.post.sql, with
-- duroxide._function_fingerprint from sql/objects.
ALTER TABLE duroxide.sql_activities
    ADD COLUMN registered_by_superuser boolean NOT NULL DEFAULT false,
    ADD COLUMN definition_hash text,
    ADD COLUMN allowed_roles regrole[],
    ADD COLUMN statement_timeout interval;
UPDATE duroxide.sql_activities SET allowed_roles = '{duroxide_user}';
DO $warn$
DECLARE
    names text;
BEGIN
    SELECT string_agg(kind || ' "' || left(name, 64) || '"', ', ' ORDER BY kind, name) INTO names
      FROM (SELECT 'SQL activity' AS kind, a.name FROM duroxide.sql_activities a
              JOIN pg_catalog.pg_roles r ON r.oid = a.run_as WHERE r.rolsuper
            UNION ALL
            SELECT 'plugin', p.name FROM duroxide.plugins p
              JOIN pg_catalog.pg_roles r ON r.oid = p.registered_by WHERE r.rolsuper) s;
    IF names IS NOT NULL THEN
        RAISE WARNING 'these registrations run as a superuser and will not run until a superuser registers them again: %', names
            USING DETAIL = 'Before 0.2.0 administrators could write the registration tables, so '
                        || 'such a row may not come from a superuser.';
    END IF;
END
$warn$;

-- Backups: pg_dump saves the durable state with the database (sql/install/80_backup.sql and
-- after); the dumped tables keep the order of a fresh install.
SELECT pg_catalog.pg_extension_config_dump('duroxide.instances', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.executions', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.history', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.orchestrator_queue', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.orchestrator_queue_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.worker_queue', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.worker_queue_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.plugins', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.plugin_handlers', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.sql_activities', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.version_policies', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.kv_store', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.kv_delta', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.rewinds', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.rewinds_rewind_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.rewound_events', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.workflow_definitions', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.workflow_grants', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.workflow_instances', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.workflow_version_policies', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.open_sessions', '');
-- duroxide install script, part 00 (the Makefile builds sql/duroxide--<version>.sql from these).
-- Header, roles and schemas. Objects live in schema duroxide (created by CREATE EXTENSION
-- from the control file); internal helpers live in duroxide_internal. PUBLIC gets nothing.
REVOKE ALL ON SCHEMA duroxide FROM PUBLIC;
GRANT USAGE ON SCHEMA duroxide TO duroxide_admin, duroxide_user;
REVOKE ALL ON SCHEMA duroxide_internal FROM PUBLIC;
GRANT USAGE ON SCHEMA duroxide_internal TO duroxide_admin;
COMMENT ON SCHEMA duroxide_internal IS
    'duroxide internals (self-tests, store operations for the validation suite); not a stable API';
-- Version --------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION duroxide.version() RETURNS text
    LANGUAGE c STRICT STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'duroxide_version';
COMMENT ON FUNCTION duroxide.version() IS 'Version of the loaded duroxide library.';
REVOKE ALL ON FUNCTION duroxide.version() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.version() TO duroxide_admin, duroxide_user;
-- The durable store (src/store): instances, executions, append-only history, the two queues
-- and the instance locks. Timestamps come from the database clock. Only the extension owner
-- touches these tables; users go through the SQL API.
--
-- Leases: a fetch marks what it takes with an unguessable lock_token, a locked_until and the
-- owner id of the worker process that holds it (locked_by). A lease is free again when it
-- expires or when its owner is no longer a live duroxide worker (duroxide._lock_holder_alive),
-- so the work of a worker that died is fetchable at once.
--
-- The queues' lease columns are not indexed and the tables leave room in each page, so taking
-- a lease is a HOT update: no new index entries for the fetches to step over.
-- Whether `owner` is the owner id of a live duroxide worker of this database.
CREATE OR REPLACE FUNCTION duroxide._lock_holder_alive(owner bigint) RETURNS boolean
    LANGUAGE c STRICT VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'duroxide_lock_holder_alive';
COMMENT ON FUNCTION duroxide._lock_holder_alive(bigint) IS
    'Internal: whether a lease owner id belongs to a live duroxide worker process.';

REVOKE ALL ON duroxide.instances, duroxide.executions, duroxide.history,
              duroxide.orchestrator_queue, duroxide.worker_queue, duroxide.instance_locks
    FROM PUBLIC;
REVOKE ALL ON FUNCTION duroxide._lock_holder_alive(bigint) FROM PUBLIC;
GRANT SELECT ON duroxide.instances, duroxide.executions, duroxide.history,
                duroxide.orchestrator_queue, duroxide.worker_queue, duroxide.instance_locks
    TO duroxide_admin;
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

-- The view reads a SECURITY DEFINER function that filters before returning rows (a caller's
-- own functions in a WHERE clause never see the activities it may not call); the caller is
-- duroxide._calling_role(), like everywhere else.
CREATE OR REPLACE FUNCTION duroxide.get_registered_handlers()
    RETURNS TABLE (kind text, name text, version text, provider_type text, provider text,
                   version_policy text, default_version boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
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
          LEFT JOIN duroxide.version_policies p
                 ON h.kind = 'orchestration' AND p.orchestration = h.name
          LEFT JOIN duroxide.plugins g ON g.name = h.plugin
         WHERE h.kind = 'orchestration'
            OR duroxide._may_call_activity(duroxide._calling_role(), g.registered_by,
                                           g.allowed_roles)
        UNION ALL
        SELECT 'activity', a.name, NULL, 'sql',
               CASE WHEN pg_has_role(duroxide._calling_role(), 'duroxide_admin', 'USAGE')
                    THEN a.function_oid::text END, NULL, NULL
          FROM duroxide.sql_activities a
         WHERE duroxide._may_call_activity(duroxide._calling_role(), a.run_as, a.allowed_roles);
    END;
COMMENT ON FUNCTION duroxide.get_registered_handlers() IS
    'Rows of the duroxide.registered_handlers view (what the caller may see).';
REVOKE ALL ON FUNCTION duroxide.get_registered_handlers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.get_registered_handlers() TO duroxide_admin, duroxide_user;

CREATE OR REPLACE VIEW duroxide.registered_handlers AS SELECT * FROM duroxide.get_registered_handlers();
COMMENT ON VIEW duroxide.registered_handlers IS
    'Every orchestration and activity the runtime can run, with its version and provider '
    '(a plugin, or an SQL function); for orchestrations, the version policy (latest, or the '
    'exact version set by duroxide.set_version_policy) and whether this is the version new '
    'instances get when none is given (default_version). A role without the privileges of '
    'duroxide_admin sees the orchestrations and only the activities its instances may call, '
    'without the function of SQL activities.';
REVOKE ALL ON duroxide.registered_handlers FROM PUBLIC;
GRANT SELECT ON duroxide.registered_handlers TO duroxide_admin, duroxide_user;
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
-- The client API: start orchestrations, raise events, cancel, read status and history.
-- The functions are SECURITY DEFINER (users hold no rights on the store's tables) with a fixed
-- search_path.
-- Per-role isolation (src/sql_api/access.hpp): whether the calling role may reach an instance
-- owned by "owner". Instances a caller may not reach read as NotFound.
CREATE OR REPLACE FUNCTION duroxide._may_access(owner oid) RETURNS boolean
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'duroxide_may_access';
REVOKE ALL ON FUNCTION duroxide._may_access(oid) FROM PUBLIC;

-- User values in messages: quoted, control characters escaped, cut to 64 bytes
-- (core/validation/message_quote.hpp). For every function's RAISE that shows a user value.
CREATE OR REPLACE FUNCTION duroxide._quote(value text) RETURNS text
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'duroxide_quote';
REVOKE ALL ON FUNCTION duroxide._quote(text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._quote(text) IS
    'Internal: a user value as it appears in messages: double-quoted, control characters escaped, cut to 64 bytes.';

-- The argument conventions of every function taking an instance id: NULL → 22004; empty,
-- longer than 256 bytes or with control characters (ids no start can create) → 22023.
CREATE OR REPLACE FUNCTION duroxide._check_instance_arg(instance text, what text DEFAULT 'instance id')
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF instance IS NULL THEN
        RAISE EXCEPTION '% must not be null', what USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF instance = '' THEN
        RAISE EXCEPTION '% must not be empty', what USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF octet_length(instance) > 256 THEN
        RAISE EXCEPTION '% % is too long (the limit is 256 bytes)', what, duroxide._quote(instance)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF instance ~ '[\x01-\x1f\x7f]' THEN
        RAISE EXCEPTION '% % must not contain control characters', what, duroxide._quote(instance)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._check_instance_arg(text, text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._check_instance_arg(text, text) IS
    'Internal: the instance id argument checks of the client functions (NULL: 22004; empty, over 256 bytes, control characters: 22023).';

-- Whether anything registered provides orchestration "name" (at exactly "version" when it is
-- not NULL). start_orchestration refuses what this denies unless allow_unregistered. The one
-- hook for new kinds of providers (e.g. SQL workflow definitions): extend its body with an
-- OR EXISTS (...) over their catalog.
CREATE OR REPLACE FUNCTION duroxide._is_orchestration_provided(name text, version text) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT EXISTS (SELECT 1 FROM duroxide.plugin_handlers h
                        WHERE h.kind = 'orchestration' AND h.name = _is_orchestration_provided.name
                          AND (_is_orchestration_provided.version IS NULL
                               OR h.version = _is_orchestration_provided.version))
            -- the built-in interpreter of SQL-authored workflows (docs/workflows.md)
            OR (_is_orchestration_provided.name = 'duroxide.workflow'
                AND coalesce(_is_orchestration_provided.version, '1.0.0') = '1.0.0');
    END;
REVOKE ALL ON FUNCTION duroxide._is_orchestration_provided(text, text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._is_orchestration_provided(text, text) IS
    'Internal: whether anything registered provides orchestration "name" (at "version" when not NULL); the hook new providers extend.';

-- For the HINT of an unregistered start: the first 10 orchestration names with their versions.
CREATE OR REPLACE FUNCTION duroxide._registered_orchestrations_summary() RETURNS text
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH names AS (
            SELECT h.name, string_agg(h.version, ', ' ORDER BY h.version) AS versions,
                   count(*) OVER () AS total, row_number() OVER (ORDER BY h.name) AS n
              FROM duroxide.plugin_handlers h WHERE h.kind = 'orchestration' GROUP BY h.name)
        SELECT coalesce(string_agg(duroxide._quote(names.name) || ' (' || names.versions || ')',
                                   ', ' ORDER BY names.name) FILTER (WHERE names.n <= 10)
                        || CASE WHEN max(names.total) > 10
                                THEN ' and ' || (max(names.total) - 10) || ' more' ELSE '' END,
                        'none')
          FROM names;
    END;
REVOKE ALL ON FUNCTION duroxide._registered_orchestrations_summary() FROM PUBLIC;
COMMENT ON FUNCTION duroxide._registered_orchestrations_summary() IS
    'Internal: the registered orchestrations and their versions, first 10, for the hint of an unregistered start.';

CREATE OR REPLACE FUNCTION duroxide.start_orchestration(instance text, name text, input text DEFAULT '',
                                             version text DEFAULT NULL,
                                             allow_unregistered boolean DEFAULT false)
    RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_start_orchestration';
COMMENT ON FUNCTION duroxide.start_orchestration(text, text, text, text, boolean) IS
    'Starts orchestration "name" as instance "instance" with "input" (pinned to "version" when '
    'given) when the calling transaction commits; returns true. Returns false, writing nothing, '
    'when the instance already exists with this orchestration; errors (23505) when the id is '
    'taken by another orchestration or another role, (42704) when nothing registered provides '
    'the orchestration unless allow_unregistered.';

CREATE OR REPLACE FUNCTION duroxide.start_orchestration(instance text, name text, input jsonb,
                                             version text DEFAULT NULL,
                                             allow_unregistered boolean DEFAULT false)
    RETURNS boolean
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT duroxide.start_orchestration(instance, name, input::text, version,
                                            allow_unregistered);
    END;
COMMENT ON FUNCTION duroxide.start_orchestration(text, text, jsonb, text, boolean) IS
    'start_orchestration with a jsonb input (passed to the orchestration as its JSON text).';

CREATE OR REPLACE FUNCTION duroxide.raise_event(instance text, event_name text, data text DEFAULT '')
    RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_raise_event';
COMMENT ON FUNCTION duroxide.raise_event(text, text, text) IS
    'Raises external event "event_name" for an instance: it completes the oldest wait for that '
    'name that the orchestration recorded before the event arrives (an event with no wait '
    'recorded yet is ignored; enqueue_event buffers). Returns whether the instance exists and '
    'the caller may reach it (false: nothing sent).';

CREATE OR REPLACE FUNCTION duroxide.enqueue_event(instance text, queue text, data text DEFAULT '')
    RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_enqueue_event';
COMMENT ON FUNCTION duroxide.enqueue_event(text, text, text) IS
    'Sends a message to queue "queue" of an instance: the orchestration takes messages with '
    'dequeue_event, first in first out, including those sent before it asked. Returns whether '
    'the instance exists (or its start is queued) and the caller may reach it (false: nothing '
    'sent).';

CREATE OR REPLACE FUNCTION duroxide.cancel_instance(instance text, reason text DEFAULT 'cancelled')
    RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_cancel_instance';
COMMENT ON FUNCTION duroxide.cancel_instance(text, text) IS
    'Cancels a running instance: it fails with "canceled: <reason>" and its open activities are '
    'withdrawn; a no-op for finished instances. Returns whether the instance exists and the '
    'caller may reach it (false: nothing sent).';

CREATE OR REPLACE FUNCTION duroxide.get_orchestration_status(instance text,
    OUT status text, OUT output text, OUT error jsonb, OUT custom_status text,
    OUT custom_status_version integer, OUT execution_id bigint, OUT orchestration_name text,
    OUT orchestration_version text, OUT created_at timestamptz, OUT updated_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    SELECT coalesce(CASE e.status WHEN 'ContinuedAsNew' THEN 'Running' ELSE e.status END,
                    'Running'),
           CASE WHEN e.status = 'Completed' THEN e.output END,
           e.error::jsonb, i.custom_status, coalesce(i.custom_status_version, 0),
           i.current_execution_id, i.orchestration_name, i.orchestration_version,
           i.created_at, i.updated_at
      INTO status, output, error, custom_status, custom_status_version, execution_id,
           orchestration_name, orchestration_version, created_at, updated_at
      FROM duroxide.instances i
      LEFT JOIN duroxide.executions e
             ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
     WHERE i.instance_id = get_orchestration_status.instance AND duroxide._may_access(i.owner_role);
    IF FOUND THEN
        RETURN;
    END IF;
    -- Started but not run yet (the dispatcher has not taken it, or its orchestration is not
    -- registered yet: allow_unregistered): Pending.
    SELECT 'Pending', 0, s.item->>'orchestration', s.item->>'version', s.created_at, s.created_at
      INTO status, custom_status_version, orchestration_name, orchestration_version, created_at,
           updated_at
      FROM (SELECT q.work_item::jsonb->'StartOrchestration' AS item, q.created_at, q.id
              FROM duroxide.orchestrator_queue q
             WHERE q.instance_id = get_orchestration_status.instance AND q.started_by IS NOT NULL
               AND duroxide._may_access(q.started_by)) s
     WHERE s.item IS NOT NULL
     ORDER BY s.id LIMIT 1;
    IF NOT FOUND THEN
        status := 'NotFound';
        custom_status_version := 0;
    END IF;
END
$fn$;
COMMENT ON FUNCTION duroxide.get_orchestration_status(text) IS
    'Status (NotFound, Pending, Running, Completed, Failed), output, error details, custom '
    'status and its version, current execution and timestamps of an instance. Pending: started '
    'but not run yet. An instance the caller may not reach (duroxide.isolate_instances) reads as '
    'NotFound.';

-- The waits sleep on the backend's latch; the dispatcher sets it when it commits a status
-- change (runtime/status_wait). Internal helpers, callable only through the waits.
CREATE OR REPLACE FUNCTION duroxide._status_change_count() RETURNS bigint
    LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'duroxide_status_change_count';
CREATE OR REPLACE FUNCTION duroxide._await_status_change(seen bigint, timeout_ms integer) RETURNS void
    LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'duroxide_await_status_change';
CREATE OR REPLACE FUNCTION duroxide._written_by_this_transaction(row_xmin xid) RETURNS boolean
    LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'duroxide_written_by_this_transaction';
REVOKE ALL ON FUNCTION duroxide._status_change_count(), duroxide._await_status_change(bigint, integer),
    duroxide._written_by_this_transaction(xid) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._written_by_this_transaction(xid) IS
    'Internal: whether a row version was written by this transaction or one of its subtransactions.';

-- Shared by the waits: argument checks, the uncommitted-start hint, and the isolation level.
CREATE OR REPLACE FUNCTION duroxide._check_wait(instance text, timeout interval) RETURNS void
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    IF timeout IS NULL THEN
        RAISE EXCEPTION 'timeout must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF timeout <= interval '0' OR timeout > interval '1 day' THEN
        RAISE EXCEPTION 'timeout must be positive and at most 1 day'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'waiting needs READ COMMITTED isolation, not %',
            current_setting('transaction_isolation')
            USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'A REPEATABLE READ or SERIALIZABLE snapshot never sees the orchestration progress.';
    END IF;
    -- The dispatcher cannot see a start this transaction (or one of its subtransactions) has
    -- not committed yet. A start of an existing instance queues nothing, so it does not count.
    IF NOT EXISTS (SELECT 1 FROM duroxide.instances i WHERE i.instance_id = _check_wait.instance)
       AND EXISTS (SELECT 1 FROM duroxide.orchestrator_queue q
                    WHERE q.instance_id = _check_wait.instance AND q.started_by IS NOT NULL
                      AND duroxide._written_by_this_transaction(q.xmin)) THEN
        RAISE EXCEPTION 'instance % was started in this transaction, which has not committed',
            duroxide._quote(instance) USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Commit the transaction that starts the orchestration before waiting for it.';
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._check_wait(text, interval) FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide.wait_for_orchestration(instance text, timeout interval DEFAULT '30 s',
    OUT status text, OUT output text, OUT error jsonb, OUT custom_status text,
    OUT custom_status_version integer, OUT execution_id bigint, OUT orchestration_name text,
    OUT orchestration_version text, OUT created_at timestamptz, OUT updated_at timestamptz)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    deadline timestamptz;
    seen bigint;
BEGIN
    -- Every read of a wait runs in a subtransaction that is always rolled back (DXW00), which
    -- releases the relation locks it took: a wait must not hold them while it sleeps, or a
    -- DROP EXTENSION would wait for its timeout, with every worker queued behind the drop.
    BEGIN
        PERFORM duroxide._check_wait(instance, timeout);
        RAISE SQLSTATE 'DXW00';
    EXCEPTION WHEN SQLSTATE 'DXW00' THEN NULL;
    END;
    deadline := clock_timestamp() + timeout;
    LOOP
        seen := duroxide._status_change_count();
        BEGIN
            SELECT * INTO status, output, error, custom_status, custom_status_version, execution_id,
                   orchestration_name, orchestration_version, created_at, updated_at
              FROM duroxide.get_orchestration_status(instance);
            RAISE SQLSTATE 'DXW00';
        EXCEPTION WHEN SQLSTATE 'DXW00' THEN NULL;
        END;
        EXIT WHEN status IN ('Completed', 'Failed');
        IF clock_timestamp() >= deadline THEN
            RAISE EXCEPTION 'timed out after % waiting for instance % (status %)', timeout,
                duroxide._quote(instance), status USING ERRCODE = 'query_canceled';
        END IF;
        -- Capped at a second: a safety net only, wake-ups come from the dispatcher's commit.
        PERFORM duroxide._await_status_change(seen,
            least(1000, ceil(extract(epoch FROM deadline - clock_timestamp()) * 1000))::integer);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION duroxide.wait_for_orchestration(text, interval) IS
    'Waits until the instance is Completed or Failed and returns its status; errors after '
    '"timeout". Sleeps on a latch that the dispatcher sets when it commits a status change.';

CREATE OR REPLACE FUNCTION duroxide.wait_for_status_change(instance text, last_seen_version integer,
    timeout interval DEFAULT '30 s',
    OUT status text, OUT output text, OUT error jsonb, OUT custom_status text,
    OUT custom_status_version integer, OUT execution_id bigint, OUT orchestration_name text,
    OUT orchestration_version text, OUT created_at timestamptz, OUT updated_at timestamptz)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    deadline timestamptz;
    seen bigint;
BEGIN
    -- Every read of a wait runs in a subtransaction that is always rolled back (DXW00), which
    -- releases the relation locks it took: a wait must not hold them while it sleeps, or a
    -- DROP EXTENSION would wait for its timeout, with every worker queued behind the drop.
    BEGIN
        PERFORM duroxide._check_wait(instance, timeout);
        RAISE SQLSTATE 'DXW00';
    EXCEPTION WHEN SQLSTATE 'DXW00' THEN NULL;
    END;
    IF last_seen_version IS NULL THEN
        RAISE EXCEPTION 'last_seen_version must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF last_seen_version < 0 THEN
        RAISE EXCEPTION 'last_seen_version must be 0 or more, not %', last_seen_version
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    deadline := clock_timestamp() + timeout;
    LOOP
        seen := duroxide._status_change_count();
        BEGIN
            SELECT * INTO status, output, error, custom_status, custom_status_version, execution_id,
                   orchestration_name, orchestration_version, created_at, updated_at
              FROM duroxide.get_orchestration_status(instance);
            RAISE SQLSTATE 'DXW00';
        EXCEPTION WHEN SQLSTATE 'DXW00' THEN NULL;
        END;
        EXIT WHEN custom_status_version > last_seen_version OR status IN ('Completed', 'Failed');
        IF clock_timestamp() >= deadline THEN
            RAISE EXCEPTION 'timed out after % waiting for a custom status of instance % newer than version %',
                timeout, duroxide._quote(instance), last_seen_version USING ERRCODE = 'query_canceled';
        END IF;
        PERFORM duroxide._await_status_change(seen,
            least(1000, ceil(extract(epoch FROM deadline - clock_timestamp()) * 1000))::integer);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION duroxide.wait_for_status_change(text, integer, interval) IS
    'Waits until the instance''s custom status version exceeds "last_seen_version" (or the '
    'instance ends) and returns its status; errors after "timeout".';

CREATE OR REPLACE FUNCTION duroxide.read_history(instance text, execution_id bigint DEFAULT NULL)
    RETURNS TABLE (event_id bigint, event_type text, event jsonb)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    IF read_history.execution_id < 1 THEN
        RAISE EXCEPTION 'execution_id must be at least 1, not %', read_history.execution_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    SELECT h.event_id, h.event_type, h.event_data::jsonb
      FROM duroxide.history h
     WHERE h.instance_id = read_history.instance
       AND h.execution_id = coalesce(read_history.execution_id,
               (SELECT i.current_execution_id FROM duroxide.instances i
                 WHERE i.instance_id = read_history.instance))
       AND EXISTS (SELECT 1 FROM duroxide.instances i
                    WHERE i.instance_id = read_history.instance
                      AND duroxide._may_access(i.owner_role))
     ORDER BY h.event_id;
END
$fn$;
COMMENT ON FUNCTION duroxide.read_history(text, bigint) IS
    'The history events of an execution (the current one by default), oldest first.';

DO $grants$
DECLARE f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'duroxide.start_orchestration(text, text, text, text, boolean)',
        'duroxide.start_orchestration(text, text, jsonb, text, boolean)',
        'duroxide.raise_event(text, text, text)', 'duroxide.cancel_instance(text, text)',
        'duroxide.enqueue_event(text, text, text)',
        'duroxide.get_orchestration_status(text)', 'duroxide.wait_for_orchestration(text, interval)',
        'duroxide.wait_for_status_change(text, integer, interval)',
        'duroxide.read_history(text, bigint)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO duroxide_admin, duroxide_user', f);
    END LOOP;
END
$grants$;
-- The durable key-value store of orchestrations (src/store/kv_store.cpp) and its client API.
-- kv_store holds the values as the last finished execution of an instance left them: the
-- snapshot an execution starts from. kv_delta holds the current execution's changes, written
-- by every turn (value NULL: cleared) and merged into kv_store when the execution completes,
-- fails or continues as new. Clients read the live view: kv_delta over kv_store. Deleting an
-- instance deletes its keys (foreign keys); pruning executions leaves them alone.
REVOKE ALL ON duroxide.kv_store, duroxide.kv_delta FROM PUBLIC;
GRANT SELECT ON duroxide.kv_store, duroxide.kv_delta TO duroxide_admin;

-- The live view of an instance's keys; empty for an instance the caller may not reach.
CREATE OR REPLACE FUNCTION duroxide._kv_live(instance text)
    RETURNS TABLE (key text, value text, last_updated_at_ms bigint)
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT coalesce(d.key, s.key),
               CASE WHEN d.key IS NOT NULL THEN d.value ELSE s.value END,
               coalesce(d.last_updated_at_ms, s.last_updated_at_ms)
          FROM (SELECT * FROM duroxide.kv_store WHERE instance_id = _kv_live.instance) s
          FULL JOIN (SELECT * FROM duroxide.kv_delta WHERE instance_id = _kv_live.instance) d
            ON d.key = s.key
         WHERE (d.key IS NULL OR d.value IS NOT NULL)
           AND EXISTS (SELECT 1 FROM duroxide.instances i
                        WHERE i.instance_id = _kv_live.instance
                          AND duroxide._may_access(i.owner_role));
    END;
REVOKE ALL ON FUNCTION duroxide._kv_live(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide._check_kv_arguments(instance text, key text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    IF key IS NULL THEN
        RAISE EXCEPTION 'key must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._check_kv_arguments(text, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide.get_kv_value(instance text, key text) RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_kv_arguments(instance, key);
    RETURN (SELECT l.value FROM duroxide._kv_live(instance) l WHERE l.key = get_kv_value.key);
END
$fn$;
COMMENT ON FUNCTION duroxide.get_kv_value(text, text) IS
    'The value of "key" in an instance''s durable key-value store, as of the last recorded '
    'turn; NULL when the key is not set (or cleared), the instance does not exist or the caller '
    'may not reach it.';

CREATE OR REPLACE FUNCTION duroxide.get_kv_values(instance text)
    RETURNS TABLE (key text, value text, updated_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_kv_arguments(instance, '');
    RETURN QUERY SELECT l.key, l.value, to_timestamp(l.last_updated_at_ms / 1000.0)
                   FROM duroxide._kv_live(instance) l ORDER BY l.key;
END
$fn$;
COMMENT ON FUNCTION duroxide.get_kv_values(text) IS
    'Every key of an instance''s durable key-value store with its value and the time it was '
    'written, ordered by key; no rows for an unknown or unreachable instance.';

CREATE OR REPLACE FUNCTION duroxide.wait_for_kv_value(instance text, key text,
                                           timeout interval DEFAULT '30 s') RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    deadline timestamptz;
    seen bigint;
    found text;
BEGIN
    PERFORM duroxide._check_kv_arguments(instance, key);
    -- Reads in a subtransaction always rolled back (DXW00): its relation locks are released,
    -- so the sleeps hold none (see wait_for_orchestration).
    BEGIN
        PERFORM duroxide._check_wait(instance, timeout);
        RAISE SQLSTATE 'DXW00';
    EXCEPTION WHEN SQLSTATE 'DXW00' THEN NULL;
    END;
    deadline := clock_timestamp() + timeout;
    LOOP
        seen := duroxide._status_change_count();
        BEGIN
            found := duroxide.get_kv_value(instance, key);
            RAISE SQLSTATE 'DXW00';
        EXCEPTION WHEN SQLSTATE 'DXW00' THEN NULL;
        END;
        EXIT WHEN found IS NOT NULL;
        IF clock_timestamp() >= deadline THEN
            RAISE EXCEPTION 'timed out after % waiting for key % of instance %', timeout,
                duroxide._quote(key), duroxide._quote(instance) USING ERRCODE = 'query_canceled';
        END IF;
        PERFORM duroxide._await_status_change(seen,
            least(1000, ceil(extract(epoch FROM deadline - clock_timestamp()) * 1000))::integer);
    END LOOP;
    RETURN found;
END
$fn$;
COMMENT ON FUNCTION duroxide.wait_for_kv_value(text, text, interval) IS
    'Waits until "key" is set in an instance''s durable key-value store and returns its value; '
    'errors after "timeout". Sleeps on the latch that the dispatcher sets when it commits a '
    'turn that changes a status or a key.';

CREATE OR REPLACE FUNCTION duroxide.get_orchestration_stats(instance text,
    OUT history_event_count bigint, OUT history_size_bytes bigint,
    OUT queue_pending_count bigint, OUT kv_user_key_count bigint,
    OUT kv_total_value_bytes bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    current bigint;
BEGIN
    PERFORM duroxide._check_kv_arguments(instance, '');
    SELECT i.current_execution_id INTO current FROM duroxide.instances i
     WHERE i.instance_id = get_orchestration_stats.instance AND duroxide._may_access(i.owner_role);
    IF NOT FOUND THEN
        RETURN; -- all NULL: NotFound, as get_orchestration_status reports it
    END IF;
    SELECT count(*), coalesce(sum(octet_length(h.event_data)), 0),
           coalesce(max(jsonb_array_length(h.event_data::jsonb -> 'carry_forward_events'))
                        FILTER (WHERE h.event_id = 1), 0)
      INTO history_event_count, history_size_bytes, queue_pending_count
      FROM duroxide.history h
     WHERE h.instance_id = get_orchestration_stats.instance AND h.execution_id = current;
    SELECT count(*), coalesce(sum(octet_length(l.value)), 0)
      INTO kv_user_key_count, kv_total_value_bytes
      FROM duroxide._kv_live(instance) l;
END
$fn$;
COMMENT ON FUNCTION duroxide.get_orchestration_stats(text) IS
    'Sizes of an instance''s current execution: history events and bytes, queue messages '
    'carried into it by continue-as-new, and its key-value store''s keys and value bytes. All '
    'NULL for an unknown instance or one the caller may not reach.';

DO $grants$
DECLARE f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'duroxide.get_kv_value(text, text)', 'duroxide.get_kv_values(text)',
        'duroxide.wait_for_kv_value(text, text, interval)',
        'duroxide.get_orchestration_stats(text)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO duroxide_admin, duroxide_user', f);
    END LOOP;
END
$grants$;
-- Management: list and inspect instances, executions and trees; delete and prune.
-- Reads are for both roles and honour per-role isolation (duroxide._may_access); deletes and
-- prunes are for duroxide_admin. All are SECURITY DEFINER with a fixed search_path.
-- The status a client sees: a continued-as-new execution is the instance still running.
CREATE OR REPLACE FUNCTION duroxide._client_status(execution_status text) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN CASE execution_status WHEN 'ContinuedAsNew' THEN 'Running'
                                 ELSE coalesce(execution_status, 'Running') END;

CREATE OR REPLACE FUNCTION duroxide.list_instances(status text DEFAULT NULL, name text DEFAULT NULL,
    created_after timestamptz DEFAULT NULL, created_before timestamptz DEFAULT NULL,
    root_only boolean DEFAULT false, max_rows integer DEFAULT 100, after_cursor text DEFAULT NULL)
    RETURNS TABLE (instance_id text, orchestration_name text, orchestration_version text,
                   instance_status text, execution_id bigint, parent_instance_id text,
                   created_at timestamptz, updated_at timestamptz, next_cursor text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    cursor_us bigint;
    cursor_id text;
BEGIN
    IF max_rows IS NULL OR max_rows < 1 OR max_rows > 10000 THEN
        RAISE EXCEPTION 'max_rows must be between 1 and 10000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF status IS NOT NULL AND status NOT IN ('Pending', 'Running', 'Completed', 'Failed') THEN
        RAISE EXCEPTION 'status must be Pending, Running, Completed or Failed, not %',
            duroxide._quote(status) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF after_cursor IS NOT NULL THEN
        IF after_cursor !~ '^[0-9]{1,18}:' THEN
            RAISE EXCEPTION 'malformed cursor %', duroxide._quote(after_cursor)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Pass the next_cursor of the last row of the previous page.';
        END IF;
        cursor_us := split_part(after_cursor, ':', 1)::bigint;
        cursor_id := substr(after_cursor, length(split_part(after_cursor, ':', 1)) + 2);
    END IF;
    -- Keyset pagination on (created_at, instance_id): stable while instances are added.
    -- Starts not run yet (Pending) are listed by the time they were queued.
    RETURN QUERY
    SELECT a.instance_id, a.orchestration_name, a.orchestration_version, a.status,
           a.execution_id, a.parent_instance_id, a.created_at, a.updated_at,
           (extract(epoch FROM a.created_at) * 1000000)::bigint::text || ':' || a.instance_id
      FROM (SELECT i.instance_id, i.orchestration_name, i.orchestration_version,
                   duroxide._client_status(e.status) AS status, i.current_execution_id AS execution_id,
                   i.parent_instance_id, i.created_at, i.updated_at
              FROM duroxide.instances i
              LEFT JOIN duroxide.executions e
                     ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
             WHERE duroxide._may_access(i.owner_role)
            UNION ALL
            (SELECT DISTINCT ON (q.instance_id) q.instance_id,
                   q.work_item::jsonb->'StartOrchestration'->>'orchestration',
                   q.work_item::jsonb->'StartOrchestration'->>'version', 'Pending', NULL::bigint,
                   q.work_item::jsonb->'StartOrchestration'->>'parent_instance',
                   q.created_at, q.created_at
              FROM duroxide.orchestrator_queue q
             WHERE q.started_by IS NOT NULL AND duroxide._may_access(q.started_by)
               AND q.work_item::jsonb ? 'StartOrchestration'
               AND NOT EXISTS (SELECT 1 FROM duroxide.instances x WHERE x.instance_id = q.instance_id)
             ORDER BY q.instance_id, q.id)) a
     WHERE (after_cursor IS NULL
            OR (a.created_at, a.instance_id) > (to_timestamp(cursor_us / 1000000.0), cursor_id))
       AND (list_instances.status IS NULL OR a.status = list_instances.status)
       AND (list_instances.name IS NULL OR a.orchestration_name = list_instances.name)
       AND (created_after IS NULL OR a.created_at > created_after)
       AND (created_before IS NULL OR a.created_at < created_before)
       AND (NOT root_only OR a.parent_instance_id IS NULL)
     ORDER BY a.created_at, a.instance_id
     LIMIT max_rows;
END
$fn$;
COMMENT ON FUNCTION duroxide.list_instances(text, text, timestamptz, timestamptz, boolean, integer, text) IS
    'Instances the caller may reach, oldest first, filtered by status, name, creation time and '
    'roots only; at most max_rows. Pass the next_cursor of the last row to get the next page.';

CREATE OR REPLACE FUNCTION duroxide.get_instance_info(instance text)
    RETURNS TABLE (instance_id text, orchestration_name text, orchestration_version text,
                   status text, execution_id bigint, executions bigint, parent_instance_id text,
                   owner text, custom_status text, custom_status_version integer,
                   created_at timestamptz, updated_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    RETURN QUERY
    SELECT i.instance_id, i.orchestration_name, i.orchestration_version,
           duroxide._client_status(e.status), i.current_execution_id,
           (SELECT count(*) FROM duroxide.executions x WHERE x.instance_id = i.instance_id),
           i.parent_instance_id, i.owner_role::regrole::text, i.custom_status,
           i.custom_status_version, i.created_at, i.updated_at
      FROM duroxide.instances i
      LEFT JOIN duroxide.executions e
             ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
     WHERE i.instance_id = get_instance_info.instance AND duroxide._may_access(i.owner_role);
END
$fn$;
COMMENT ON FUNCTION duroxide.get_instance_info(text) IS
    'One row about an instance (no row when it does not exist or the caller may not reach it).';

CREATE OR REPLACE FUNCTION duroxide.list_executions(instance text)
    RETURNS TABLE (execution_id bigint, status text, output text, started_at timestamptz,
                   completed_at timestamptz, events bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    RETURN QUERY
    SELECT e.execution_id, e.status, e.output, e.started_at, e.completed_at,
           (SELECT count(*) FROM duroxide.history h
             WHERE h.instance_id = e.instance_id AND h.execution_id = e.execution_id)
      FROM duroxide.executions e
      JOIN duroxide.instances i ON i.instance_id = e.instance_id
     WHERE e.instance_id = list_executions.instance AND duroxide._may_access(i.owner_role)
     ORDER BY e.execution_id;
END
$fn$;
COMMENT ON FUNCTION duroxide.list_executions(text) IS
    'The executions of an instance (one more per continue-as-new), with status and event count.';

-- An instance the caller may not reach reads as not existing, as in get_instance_info.
CREATE OR REPLACE FUNCTION duroxide.get_execution_info(instance text, execution bigint)
    RETURNS TABLE (execution_id bigint, status text, output text, started_at timestamptz,
                   completed_at timestamptz, event_count bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    IF execution IS NULL THEN
        RAISE EXCEPTION 'execution must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF execution < 1 THEN
        RAISE EXCEPTION 'execution must be at least 1, not %', execution
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM FROM duroxide.instances i
     WHERE i.instance_id = get_execution_info.instance AND duroxide._may_access(i.owner_role);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance % does not exist', duroxide._quote(instance) USING ERRCODE = 'no_data_found';
    END IF;
    RETURN QUERY
    SELECT e.execution_id, e.status, e.output, e.started_at, e.completed_at,
           (SELECT count(*) FROM duroxide.history h
             WHERE h.instance_id = e.instance_id AND h.execution_id = e.execution_id)
      FROM duroxide.executions e
     WHERE e.instance_id = get_execution_info.instance AND e.execution_id = execution;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance % has no execution %', duroxide._quote(instance), execution
            USING ERRCODE = 'no_data_found',
                  HINT = 'duroxide.list_executions lists the executions it has (pruned ones are gone).';
    END IF;
END
$fn$;
COMMENT ON FUNCTION duroxide.get_execution_info(text, bigint) IS
    'One execution of an instance: status, output, start and end (NULL while it runs) and its '
    'number of history events. Errors when the instance or the execution does not exist.';

CREATE OR REPLACE FUNCTION duroxide.get_instance_tree(instance text)
    RETURNS TABLE (instance_id text, parent_instance_id text, depth integer, status text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    RETURN QUERY
    WITH RECURSIVE tree AS (
        SELECT i.instance_id, i.parent_instance_id, 0 AS depth
          FROM duroxide.instances i
         WHERE i.instance_id = get_instance_tree.instance
           AND duroxide._may_access(i.owner_role)
        UNION ALL
        SELECT c.instance_id, c.parent_instance_id, t.depth + 1
          FROM duroxide.instances c JOIN tree t ON c.parent_instance_id = t.instance_id
    )
    SELECT t.instance_id, t.parent_instance_id, t.depth, duroxide._client_status(e.status)
      FROM tree t
      JOIN duroxide.instances i ON i.instance_id = t.instance_id
      LEFT JOIN duroxide.executions e
             ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
     ORDER BY t.depth, t.instance_id;
END
$fn$;
COMMENT ON FUNCTION duroxide.get_instance_tree(text) IS
    'An instance and all its sub-orchestrations, depth first level by level.';

CREATE OR REPLACE FUNCTION duroxide.list_children(instance text) RETURNS SETOF text
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    RETURN QUERY
    SELECT c.instance_id FROM duroxide.instances c
      JOIN duroxide.instances p ON p.instance_id = c.parent_instance_id
     WHERE c.parent_instance_id = list_children.instance AND duroxide._may_access(p.owner_role)
     ORDER BY c.instance_id;
END
$fn$;
COMMENT ON FUNCTION duroxide.list_children(text) IS 'The direct sub-orchestrations of an instance.';

-- Deletes the trees rooted at `roots` (all their rows, queued messages, activities and locks)
-- and returns what it deleted. Deleting a lock makes a turn in flight fail to record, so a
-- running instance is not recreated by its own dispatcher.
CREATE OR REPLACE FUNCTION duroxide._delete_trees(roots text[],
    OUT instances bigint, OUT executions bigint, OUT events bigint, OUT queue_messages bigint)
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    ids text[];
    n bigint;
BEGIN
    WITH RECURSIVE tree AS (
        SELECT unnest(roots) AS instance_id
        UNION
        SELECT c.instance_id FROM duroxide.instances c JOIN tree t ON c.parent_instance_id = t.instance_id
    )
    SELECT array_agg(instance_id) INTO ids FROM tree;
    DELETE FROM duroxide.instance_locks WHERE instance_id = ANY (ids);
    DELETE FROM duroxide.orchestrator_queue WHERE instance_id = ANY (ids);
    GET DIAGNOSTICS queue_messages = ROW_COUNT;
    DELETE FROM duroxide.worker_queue WHERE instance_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT;
    queue_messages := queue_messages + n;
    DELETE FROM duroxide.history WHERE instance_id = ANY (ids);
    GET DIAGNOSTICS events = ROW_COUNT;
    DELETE FROM duroxide.executions WHERE instance_id = ANY (ids);
    GET DIAGNOSTICS executions = ROW_COUNT;
    DELETE FROM duroxide.instances WHERE instance_id = ANY (ids);
    GET DIAGNOSTICS instances = ROW_COUNT;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._delete_trees(text[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide.delete_instance(instance text, force boolean DEFAULT false,
    OUT instances bigint, OUT executions bigint, OUT events bigint, OUT queue_messages bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    target duroxide.instances%ROWTYPE;
    running text;
BEGIN
    IF instance IS NULL OR force IS NULL THEN
        RAISE EXCEPTION 'instance and force must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO target FROM duroxide.instances i WHERE i.instance_id = delete_instance.instance
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance % does not exist', duroxide._quote(instance) USING ERRCODE = 'no_data_found';
    END IF;
    IF target.parent_instance_id IS NOT NULL THEN
        RAISE EXCEPTION 'instance % is a sub-orchestration of %', duroxide._quote(instance),
            duroxide._quote(target.parent_instance_id)
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Delete its root instance: the whole tree goes with it.';
    END IF;
    WITH RECURSIVE tree AS (
        SELECT target.instance_id AS instance_id
        UNION
        SELECT c.instance_id FROM duroxide.instances c JOIN tree t ON c.parent_instance_id = t.instance_id
    )
    SELECT t.instance_id INTO running FROM tree t
      JOIN duroxide.instances i ON i.instance_id = t.instance_id
      JOIN duroxide.executions e ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
     WHERE e.status IN ('Running', 'ContinuedAsNew') LIMIT 1;
    IF running IS NOT NULL AND NOT force THEN
        RAISE EXCEPTION 'instance % is still running', duroxide._quote(running)
            USING ERRCODE = 'object_in_use',
                  HINT = 'Cancel it and wait for it to end, or pass force => true.';
    END IF;
    SELECT * INTO instances, executions, events, queue_messages
      FROM duroxide._delete_trees(ARRAY[target.instance_id]);
END
$fn$;
COMMENT ON FUNCTION duroxide.delete_instance(text, boolean) IS
    'Deletes a root instance with all its sub-orchestrations, history and queued work, in one '
    'transaction; refuses a running tree unless force (which also withdraws its running '
    'activities). Returns what was deleted.';

CREATE OR REPLACE FUNCTION duroxide.delete_instances(completed_before timestamptz DEFAULT NULL,
    instance_ids text[] DEFAULT NULL, max_instances integer DEFAULT 1000,
    OUT instances bigint, OUT executions bigint, OUT events bigint, OUT queue_messages bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    roots text[];
BEGIN
    IF completed_before IS NULL AND instance_ids IS NULL THEN
        RAISE EXCEPTION 'give completed_before, instance_ids or both'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF max_instances IS NULL OR max_instances < 1 THEN
        RAISE EXCEPTION 'max_instances must be positive' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Terminal roots only; running ones (and children) are skipped, not errors.
    SELECT array_agg(i.instance_id) INTO roots FROM (
        SELECT i.instance_id FROM duroxide.instances i
          JOIN duroxide.executions e
            ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
         WHERE i.parent_instance_id IS NULL AND e.status IN ('Completed', 'Failed')
           AND (completed_before IS NULL OR e.completed_at < completed_before)
           AND (instance_ids IS NULL OR i.instance_id = ANY (instance_ids))
         ORDER BY e.completed_at, i.instance_id
         LIMIT max_instances
           FOR UPDATE OF i SKIP LOCKED) i;
    SELECT * INTO instances, executions, events, queue_messages
      FROM duroxide._delete_trees(coalesce(roots, '{}'));
END
$fn$;
COMMENT ON FUNCTION duroxide.delete_instances(timestamptz, text[], integer) IS
    'Deletes up to max_instances finished root instances (completed before completed_before '
    'and/or among instance_ids) with their trees; running instances are skipped.';

-- The rule of prune_executions: an execution goes when it is at least keep_last executions
-- before the current one (so never the current one) and, with completed_before, it ended
-- before that (a continued-as-new execution recorded by 0.1.0, which kept no end time for it,
-- counts as ended).
CREATE OR REPLACE FUNCTION duroxide._prunable(execution_id bigint, status text, completed_at timestamptz,
                                   current_id bigint, keep_last integer,
                                   completed_before timestamptz) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    RETURN execution_id <> current_id AND execution_id <= current_id - keep_last
       AND (completed_before IS NULL OR completed_at < completed_before
            OR (completed_at IS NULL AND status = 'ContinuedAsNew'));

CREATE OR REPLACE FUNCTION duroxide.prune_executions(instance text, keep_last integer DEFAULT 1,
    completed_before timestamptz DEFAULT NULL, OUT executions bigint, OUT events bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    current_id bigint;
    doomed bigint[];
BEGIN
    IF keep_last IS NULL OR keep_last < 1 THEN
        RAISE EXCEPTION 'keep_last must be at least 1 (the current execution is always kept)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT i.current_execution_id INTO current_id FROM duroxide.instances i
     WHERE i.instance_id = prune_executions.instance FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance % does not exist', duroxide._quote(instance) USING ERRCODE = 'no_data_found';
    END IF;
    SELECT array_agg(e.execution_id) INTO doomed
      FROM duroxide.executions e
     WHERE e.instance_id = prune_executions.instance
       AND duroxide._prunable(e.execution_id, e.status, e.completed_at, current_id, keep_last,
                              completed_before);
    DELETE FROM duroxide.history h
     WHERE h.instance_id = prune_executions.instance AND h.execution_id = ANY (coalesce(doomed, '{}'));
    GET DIAGNOSTICS events = ROW_COUNT;
    DELETE FROM duroxide.executions e
     WHERE e.instance_id = prune_executions.instance AND e.execution_id = ANY (coalesce(doomed, '{}'));
    GET DIAGNOSTICS executions = ROW_COUNT;
END
$fn$;
COMMENT ON FUNCTION duroxide.prune_executions(text, integer, timestamptz) IS
    'Deletes the history of old executions of an instance (continue-as-new leaves one per '
    'iteration), keeping the last keep_last, the current one always.';

-- The bulk form: every matching instance, running ones included (only old executions go).
-- Only instances with something to prune count against max_instances, so calling it again
-- goes on with the next ones. An instance whose row is being written at that moment (a turn
-- being recorded, another prune) is skipped, not waited for.
CREATE OR REPLACE FUNCTION duroxide.prune_executions_bulk(instance_ids text[] DEFAULT NULL,
    instances_completed_before timestamptz DEFAULT NULL, max_instances integer DEFAULT 1000,
    keep_last integer DEFAULT 1, completed_before timestamptz DEFAULT NULL,
    OUT instances bigint, OUT executions bigint, OUT events bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    target text;
    pruned record;
BEGIN
    IF max_instances IS NULL OR max_instances < 1 THEN
        RAISE EXCEPTION 'max_instances must be positive' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF keep_last IS NULL OR keep_last < 1 THEN
        RAISE EXCEPTION 'keep_last must be at least 1 (the current execution is always kept)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    instances := 0; executions := 0; events := 0;
    FOR target IN
        SELECT i.instance_id FROM duroxide.instances i
          JOIN duroxide.executions c
            ON c.instance_id = i.instance_id AND c.execution_id = i.current_execution_id
         WHERE (instance_ids IS NULL OR i.instance_id = ANY (instance_ids))
           AND (instances_completed_before IS NULL
                OR (c.status IN ('Completed', 'Failed') AND c.completed_at < instances_completed_before))
           AND EXISTS (SELECT FROM duroxide.executions e
                        WHERE e.instance_id = i.instance_id
                          AND duroxide._prunable(e.execution_id, e.status, e.completed_at,
                                                 i.current_execution_id, keep_last, completed_before))
         ORDER BY i.instance_id
         LIMIT max_instances
           FOR UPDATE OF i SKIP LOCKED
    LOOP
        SELECT * INTO pruned FROM duroxide.prune_executions(target, keep_last, completed_before);
        instances := instances + 1;
        executions := executions + pruned.executions;
        events := events + pruned.events;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION duroxide.prune_executions_bulk(text[], timestamptz, integer, integer, timestamptz) IS
    'prune_executions(keep_last, completed_before) for up to max_instances instances (among '
    'instance_ids, and/or finished before instances_completed_before; running ones included) '
    'that have old executions to delete. Returns the instances pruned and what was deleted.';

CREATE OR REPLACE VIEW duroxide.queue_depths AS
SELECT 'orchestrator'::text AS queue,
       count(*) FILTER (WHERE visible_at <= clock_timestamp() AND lock_token IS NULL) AS ready,
       count(*) FILTER (WHERE visible_at > clock_timestamp()) AS delayed,
       count(*) FILTER (WHERE lock_token IS NOT NULL) AS in_progress
  FROM duroxide.orchestrator_queue
UNION ALL
SELECT 'worker',
       count(*) FILTER (WHERE visible_at <= clock_timestamp()
                          AND (lock_token IS NULL OR locked_until <= clock_timestamp())),
       count(*) FILTER (WHERE visible_at > clock_timestamp()),
       count(*) FILTER (WHERE lock_token IS NOT NULL AND locked_until > clock_timestamp())
  FROM duroxide.worker_queue;
COMMENT ON VIEW duroxide.queue_depths IS
    'Messages per queue: ready to run, delayed (timers, backoff) and being processed.';

CREATE OR REPLACE VIEW duroxide.instance_counts AS
SELECT CASE e.status WHEN 'ContinuedAsNew' THEN 'Running' ELSE coalesce(e.status, 'Running') END
           AS status,
       count(*) AS instances
  FROM duroxide.instances i
  LEFT JOIN duroxide.executions e
         ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
 GROUP BY 1;
COMMENT ON VIEW duroxide.instance_counts IS 'Instances by status (all roles).';

CREATE OR REPLACE VIEW duroxide.system_metrics AS
SELECT (SELECT count(*) FROM duroxide.instances) AS total_instances,
       (SELECT count(*) FROM duroxide.executions) AS total_executions,
       coalesce(sum(c.instances) FILTER (WHERE c.status = 'Running'), 0)::bigint AS running_instances,
       coalesce(sum(c.instances) FILTER (WHERE c.status = 'Completed'), 0)::bigint AS completed_instances,
       coalesce(sum(c.instances) FILTER (WHERE c.status = 'Failed'), 0)::bigint AS failed_instances,
       (SELECT count(*) FROM duroxide.history) AS total_events
  FROM duroxide.instance_counts c;
COMMENT ON VIEW duroxide.system_metrics IS
    'Totals of the store (all roles): instances, executions, instances by status, history '
    'events. Counts every row: meant for an occasional look, not for polling.';

DO $grants$
DECLARE f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'duroxide.list_instances(text, text, timestamptz, timestamptz, boolean, integer, text)',
        'duroxide.get_instance_info(text)', 'duroxide.list_executions(text)',
        'duroxide.get_execution_info(text, bigint)',
        'duroxide.get_instance_tree(text)', 'duroxide.list_children(text)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO duroxide_admin, duroxide_user', f);
    END LOOP;
    FOREACH f IN ARRAY ARRAY[
        'duroxide.delete_instance(text, boolean)',
        'duroxide.delete_instances(timestamptz, text[], integer)',
        'duroxide.prune_executions(text, integer, timestamptz)',
        'duroxide.prune_executions_bulk(text[], timestamptz, integer, integer, timestamptz)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO duroxide_admin', f);
    END LOOP;
END
$grants$;
REVOKE ALL ON FUNCTION duroxide._client_status(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION duroxide._prunable(bigint, text, timestamptz, bigint, integer, timestamptz)
    FROM PUBLIC;
REVOKE ALL ON duroxide.queue_depths, duroxide.instance_counts, duroxide.system_metrics FROM PUBLIC;
GRANT SELECT ON duroxide.queue_depths, duroxide.instance_counts, duroxide.system_metrics
    TO duroxide_admin;
-- Operator views: instances at a glance, what an instance waits on, its history in readable
-- form, and counters per orchestration and activity name (docs/user-guide.md, "What is this
-- instance waiting on?"). Reads honour per-role isolation (duroxide._may_access) like every
-- other instance read: a caller sees only the instances it may reach. The views read
-- SECURITY DEFINER functions that filter before returning rows, so a caller's own functions
-- in a WHERE clause never see the rows of other roles.
-- An ErrorDetails JSON as one line: the same text as the engine's display message (what a
-- failed execution records as its output).
CREATE OR REPLACE FUNCTION duroxide._error_text(details jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN CASE
        WHEN details ? 'Infrastructure' THEN
            'infrastructure:' || (details->'Infrastructure'->>'operation') || ': '
                || (details->'Infrastructure'->>'message')
        WHEN details ? 'Configuration' THEN
            'nondeterministic: ' || coalesce(details->'Configuration'->>'message',
                                             details->'Configuration'->>'resource')
        WHEN details ? 'Application' THEN
            CASE
                WHEN jsonb_typeof(details->'Application'->'kind') = 'object' THEN
                    'canceled: ' || (details->'Application'->'kind'->'Cancelled'->>'reason')
                WHEN details->'Application'->>'kind' = 'Panicked' THEN
                    'orchestration panicked: ' || (details->'Application'->>'message')
                ELSE details->'Application'->>'message'
            END
        WHEN details ? 'Poison' THEN
            'poison: ' || (details->'Poison'->>'message') || ' (attempt '
                || (details->'Poison'->>'attempt_count') || ' of max '
                || (details->'Poison'->>'max_attempts') || ')'
    END;
COMMENT ON FUNCTION duroxide._error_text(jsonb) IS
    'Internal: an ErrorDetails JSON as one line of text (the engine''s display message).';
REVOKE ALL ON FUNCTION duroxide._error_text(jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide.get_instances_overview()
    RETURNS TABLE (instance_id text, status text, orchestration_name text,
                   orchestration_version text, execution_id bigint, created_at timestamptz,
                   updated_at timestamptz, duration interval, error text, custom_status text,
                   parent_instance_id text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT i.instance_id, duroxide._client_status(e.status) AS status, i.orchestration_name,
               i.orchestration_version, i.current_execution_id AS execution_id, i.created_at,
               i.updated_at,
               coalesce(e.completed_at, clock_timestamp()) - i.created_at AS duration,
               CASE WHEN e.status = 'Failed' THEN duroxide._error_text(e.error::jsonb) END AS error,
               i.custom_status, i.parent_instance_id
          FROM duroxide.instances i
          LEFT JOIN duroxide.executions e
                 ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
         WHERE duroxide._may_access(i.owner_role);
    END;
COMMENT ON FUNCTION duroxide.get_instances_overview() IS
    'Rows of the duroxide.instances_overview view (instances the caller may reach).';

CREATE OR REPLACE VIEW duroxide.instances_overview AS SELECT * FROM duroxide.get_instances_overview();
COMMENT ON VIEW duroxide.instances_overview IS
    'Instances the caller may reach: status, orchestration and version, current execution, '
    'created and updated, duration (until now while running), error text of a failure, custom '
    'status and parent.';

-- The scheduling event of every completion (source_event_id) gives completions their name.
CREATE OR REPLACE FUNCTION duroxide.history_view(instance text, execution bigint DEFAULT NULL)
    RETURNS TABLE (execution_id bigint, event_id bigint, recorded_at timestamptz, kind text,
                   name text, source_event_id bigint, input text, output text, error text,
                   detail text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    exec_id bigint;
BEGIN
    IF instance IS NULL THEN
        RAISE EXCEPTION 'instance must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF execution IS NOT NULL AND execution < 1 THEN
        RAISE EXCEPTION 'execution must be at least 1, not %', execution
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT coalesce(history_view.execution, i.current_execution_id) INTO exec_id
      FROM duroxide.instances i
     WHERE i.instance_id = history_view.instance AND duroxide._may_access(i.owner_role);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance "%" does not exist', left(instance, 200)
            USING ERRCODE = 'no_data_found',
                  HINT = 'duroxide.instances_overview lists the instances you may see.';
    END IF;
    RETURN QUERY
    WITH ev AS (
        SELECT h.execution_id, h.event_id, h.event_type, h.event_data::jsonb AS d
          FROM duroxide.history h
         WHERE h.instance_id = history_view.instance AND h.execution_id = exec_id
    )
    SELECT ev.execution_id, ev.event_id,
           to_timestamp((ev.d->>'timestamp_ms')::bigint / 1000.0),
           ev.event_type,
           coalesce(ev.d->>'name', ev.d->>'key', src.d->>'name'),
           (ev.d->>'source_event_id')::bigint,
           CASE WHEN ev.event_type IN ('OrchestrationStarted', 'ActivityScheduled',
                                       'SubOrchestrationScheduled', 'OrchestrationChained',
                                       'OrchestrationContinuedAsNew')
                THEN ev.d->>'input' END,
           coalesce(ev.d->>'output', ev.d->>'result', ev.d->>'data', ev.d->>'value',
                    ev.d->>'status'),
           CASE WHEN ev.d ? 'details' THEN duroxide._error_text(ev.d->'details') END,
           concat_ws(', ',
               CASE WHEN ev.d ? 'fire_at_ms' THEN 'fires at ' || to_timestamp(
                   (ev.d->>'fire_at_ms')::bigint / 1000.0)::text END,
               CASE WHEN ev.d ? 'reason' THEN 'reason: ' || (ev.d->>'reason') END,
               CASE WHEN ev.d ? 'instance' THEN 'instance: ' || (ev.d->>'instance') END,
               CASE WHEN ev.d->>'version' <> '' THEN 'version: ' || (ev.d->>'version') END,
               CASE WHEN ev.d->>'parent_instance' IS NOT NULL
                    THEN 'parent: ' || (ev.d->>'parent_instance') END,
               CASE WHEN ev.d->>'session_id' IS NOT NULL
                    THEN 'session: ' || (ev.d->>'session_id') END,
               CASE WHEN ev.d->>'tag' IS NOT NULL THEN 'tag: ' || (ev.d->>'tag') END)
      FROM ev
      LEFT JOIN ev src ON src.event_id = (ev.d->>'source_event_id')::bigint
     ORDER BY ev.event_id;
END
$fn$;
COMMENT ON FUNCTION duroxide.history_view(text, bigint) IS
    'The history of an execution (the current one by default) in readable form: event time, '
    'kind, name (a completion takes the name of the work it completes), source event, input, '
    'output and error as text, and the other fields in "detail".';

-- What a running instance waits on, derived from its current execution's history and the
-- queues. Event waits and dequeues are matched the way the engine does: an ExternalEvent
-- completes the oldest open wait of its name recorded before it; a queue message completes
-- the oldest waiting dequeue of its queue, or waits in the queue for the next one.
CREATE OR REPLACE FUNCTION duroxide.pending_work(instance text)
    RETURNS TABLE (kind text, event_id bigint, name text, state text, attempt integer,
                   due_at timestamptz, child_instance text, child_status text, detail text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    inst duroxide.instances%ROWTYPE;
    exec_status text;
    exec_id bigint;
    h record;
    waits jsonb := '{}';      -- name -> [open wait event ids], oldest first
    dequeues jsonb := '{}';   -- queue -> [waiting dequeue event ids], oldest first
    buffered jsonb := '{}';   -- queue -> number of messages no dequeue took yet
    closed bigint[] := '{}';  -- waits and dequeues that were completed or cancelled
    n text;
    src bigint;
BEGIN
    IF instance IS NULL THEN
        RAISE EXCEPTION 'instance must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO inst FROM duroxide.instances i
     WHERE i.instance_id = pending_work.instance AND duroxide._may_access(i.owner_role);
    IF NOT FOUND THEN
        -- Not started yet: a start message waiting for a dispatcher (or its handler).
        RETURN QUERY
        SELECT 'start'::text, NULL::bigint, q.work_item::jsonb->'StartOrchestration'->>'orchestration',
               CASE WHEN q.lock_token IS NOT NULL THEN 'running'
                    WHEN q.visible_at > clock_timestamp() THEN 'delayed' ELSE 'queued' END,
               q.attempt_count, q.visible_at, NULL::text, NULL::text,
               'version: ' || coalesce(q.work_item::jsonb->'StartOrchestration'->>'version', 'any')
          FROM duroxide.orchestrator_queue q
         WHERE q.instance_id = pending_work.instance
           AND q.work_item LIKE '{"StartOrchestration"%'
           AND duroxide._may_access(q.started_by)
         ORDER BY q.id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'instance "%" does not exist', left(instance, 200)
                USING ERRCODE = 'no_data_found',
                      HINT = 'duroxide.instances_overview lists the instances you may see.';
        END IF;
        RETURN;
    END IF;
    exec_id := inst.current_execution_id;
    SELECT e.status INTO exec_status FROM duroxide.executions e
     WHERE e.instance_id = inst.instance_id AND e.execution_id = exec_id;
    IF exec_status IS NOT NULL AND exec_status NOT IN ('Running', 'ContinuedAsNew') THEN
        RETURN; -- finished: waits on nothing
    END IF;

    -- Positional matching of event waits and queue messages, in history order.
    FOR h IN SELECT x.event_id, x.event_type, x.event_data::jsonb AS d
               FROM duroxide.history x
              WHERE x.instance_id = inst.instance_id AND x.execution_id = exec_id
              ORDER BY x.event_id LOOP
        n := h.d->>'name';
        src := (h.d->>'source_event_id')::bigint;
        CASE h.event_type
        WHEN 'ExternalSubscribed' THEN
            waits := jsonb_set(waits, ARRAY[n], coalesce(waits->n, '[]') || to_jsonb(h.event_id));
        WHEN 'ExternalEvent' THEN
            IF jsonb_array_length(coalesce(waits->n, '[]')) > 0 THEN
                closed := closed || (waits->n->>0)::bigint;
                waits := jsonb_set(waits, ARRAY[n], (waits->n) - 0);
            END IF;
        WHEN 'ExternalSubscribedPersistent' THEN
            IF coalesce((buffered->>n)::int, 0) > 0 THEN
                closed := closed || h.event_id;
                buffered := jsonb_set(buffered, ARRAY[n], to_jsonb((buffered->>n)::int - 1));
            ELSE
                dequeues := jsonb_set(dequeues, ARRAY[n],
                                      coalesce(dequeues->n, '[]') || to_jsonb(h.event_id));
            END IF;
        WHEN 'ExternalEventPersistent' THEN
            IF jsonb_array_length(coalesce(dequeues->n, '[]')) > 0 THEN
                closed := closed || (dequeues->n->>0)::bigint;
                dequeues := jsonb_set(dequeues, ARRAY[n], (dequeues->n) - 0);
            ELSE
                buffered := jsonb_set(buffered, ARRAY[n],
                                      to_jsonb(coalesce((buffered->>n)::int, 0) + 1));
            END IF;
        WHEN 'ExternalSubscribedCancelled', 'ExternalSubscribedPersistentCancelled' THEN
            closed := closed || src;
        ELSE
            NULL;
        END CASE;
    END LOOP;

    RETURN QUERY
    WITH ev AS (
        SELECT x.event_id, x.event_type, x.event_data::jsonb AS d
          FROM duroxide.history x
         WHERE x.instance_id = inst.instance_id AND x.execution_id = exec_id
    ), done AS (
        SELECT DISTINCT (ev.d->>'source_event_id')::bigint AS id FROM ev
         WHERE ev.d ? 'source_event_id'
    ), open AS (
        SELECT ev.* FROM ev
         WHERE ev.event_type IN ('ActivityScheduled', 'TimerCreated', 'SubOrchestrationScheduled',
                                 'ExternalSubscribed', 'ExternalSubscribedPersistent')
           AND NOT EXISTS (SELECT 1 FROM done WHERE done.id = ev.event_id)
           AND ev.event_id <> ALL (closed)
    )
    SELECT CASE o.event_type
               WHEN 'ActivityScheduled' THEN 'activity'
               WHEN 'TimerCreated' THEN 'timer'
               WHEN 'SubOrchestrationScheduled' THEN 'sub_orchestration'
               WHEN 'ExternalSubscribed' THEN 'event'
               ELSE 'queue' END,
           o.event_id,
           CASE WHEN o.event_type = 'TimerCreated' THEN retry.name ELSE o.d->>'name' END,
           CASE o.event_type
               WHEN 'ActivityScheduled' THEN
                   CASE WHEN w.id IS NULL THEN 'completing'
                        WHEN w.lock_token IS NOT NULL AND w.locked_until > clock_timestamp()
                            THEN 'running'
                        WHEN w.visible_at > clock_timestamp() THEN 'delayed'
                        ELSE 'queued' END
               WHEN 'TimerCreated' THEN
                   CASE WHEN retry.name IS NOT NULL THEN 'retry backoff' ELSE 'waiting' END
               WHEN 'SubOrchestrationScheduled' THEN 'running'
               ELSE 'waiting' END,
           CASE o.event_type
               WHEN 'ActivityScheduled' THEN
                   (1 + (SELECT count(*) FROM ev p JOIN ev f
                           ON f.event_type = 'ActivityFailed'
                          AND (f.d->>'source_event_id')::bigint = p.event_id
                          WHERE p.event_type = 'ActivityScheduled' AND p.event_id < o.event_id
                            AND p.d->>'name' = o.d->>'name'
                            AND p.d->>'input' = o.d->>'input'))::integer
               WHEN 'TimerCreated' THEN (retry.failed_attempts + 1)::integer
           END,
           CASE o.event_type
               WHEN 'TimerCreated' THEN to_timestamp((o.d->>'fire_at_ms')::bigint / 1000.0)
               WHEN 'ActivityScheduled' THEN
                   CASE WHEN w.visible_at > clock_timestamp() THEN w.visible_at END
           END,
           CASE WHEN o.event_type = 'SubOrchestrationScheduled' THEN o.d->>'instance' END,
           CASE WHEN o.event_type = 'SubOrchestrationScheduled'
                THEN CASE WHEN ci.instance_id IS NOT NULL
                          THEN coalesce(duroxide._client_status(ce.status), 'NotStarted')
                          WHEN NOT EXISTS (SELECT 1 FROM duroxide.instances x
                                            WHERE x.instance_id = o.d->>'instance')
                          THEN 'NotStarted' END END,
           concat_ws(', ',
               CASE WHEN o.event_type = 'ActivityScheduled' AND w.id IS NOT NULL
                    THEN 'deliveries: ' || w.attempt_count END,
               CASE WHEN o.event_type = 'ActivityScheduled' AND w.lock_token IS NOT NULL
                         AND w.locked_until > clock_timestamp()
                    THEN 'lease until ' || w.locked_until::text END,
               CASE WHEN o.d->>'session_id' IS NOT NULL THEN 'session: ' || (o.d->>'session_id') END,
               CASE WHEN o.d->>'tag' IS NOT NULL THEN 'tag: ' || (o.d->>'tag') END,
               CASE WHEN retry.name IS NOT NULL THEN 'last error: ' || retry.error END)
      FROM open o
      LEFT JOIN duroxide.worker_queue w
             ON o.event_type = 'ActivityScheduled' AND w.instance_id = inst.instance_id
            AND w.execution_id = exec_id AND w.activity_id = o.event_id
      -- A child the caller may not reach (an explicit id another role's instance holds) is
      -- shown without its status.
      LEFT JOIN duroxide.instances ci
             ON o.event_type = 'SubOrchestrationScheduled' AND ci.instance_id = o.d->>'instance'
            AND duroxide._may_access(ci.owner_role)
      LEFT JOIN duroxide.executions ce
             ON ce.instance_id = ci.instance_id AND ce.execution_id = ci.current_execution_id
      -- A timer right after a failed activity's completion is a retry's backoff.
      LEFT JOIN LATERAL (
          SELECT s.d->>'name' AS name, duroxide._error_text(f.d->'details') AS error,
                 (SELECT count(*) FROM ev p JOIN ev pf
                    ON pf.event_type = 'ActivityFailed'
                   AND (pf.d->>'source_event_id')::bigint = p.event_id
                   WHERE p.event_type = 'ActivityScheduled' AND p.event_id < o.event_id
                     AND p.d->>'name' = s.d->>'name' AND p.d->>'input' = s.d->>'input')
                     AS failed_attempts
            FROM ev f JOIN ev s ON s.event_id = (f.d->>'source_event_id')::bigint
           WHERE o.event_type = 'TimerCreated' AND f.event_type = 'ActivityFailed'
             AND f.event_id < o.event_id
             AND NOT EXISTS (SELECT 1 FROM ev between_ev
                              WHERE between_ev.event_id > f.event_id
                                AND between_ev.event_id < o.event_id
                                AND between_ev.event_type IN ('ActivityScheduled', 'TimerCreated',
                                    'SubOrchestrationScheduled', 'ExternalSubscribed',
                                    'ExternalSubscribedPersistent'))
           ORDER BY f.event_id DESC LIMIT 1
      ) retry ON true
     ORDER BY o.event_id;
END
$fn$;
COMMENT ON FUNCTION duroxide.pending_work(text) IS
    'What a running instance waits on: open activities (state, retry attempt, next delivery), '
    'timers with their fire time (a retry''s backoff names its activity), event waits, '
    'dequeues and sub-orchestrations with their status; a start not yet run. No rows when '
    'the instance has finished.';

-- Counters and durations per orchestration name (executions) and activity name (history).
CREATE OR REPLACE FUNCTION duroxide.get_metrics_by_name()
    RETURNS TABLE (kind text, name text, started bigint, completed bigint, failed bigint,
                   cancelled bigint, continued_as_new bigint, open bigint,
                   avg_duration interval, max_duration interval)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH reachable AS (
            SELECT i.instance_id, i.orchestration_name FROM duroxide.instances i
             WHERE duroxide._may_access(i.owner_role)
        ), act AS (
            SELECT s.instance_id, s.execution_id, s.event_id, s.event_data::jsonb->>'name' AS name,
                   s.created_at
              FROM duroxide.history s JOIN reachable r ON r.instance_id = s.instance_id
             WHERE s.event_type = 'ActivityScheduled'
        ), act_done AS (
            SELECT c.instance_id, c.execution_id, (c.event_data::jsonb->>'source_event_id')::bigint AS id,
                   c.event_type, c.created_at
              FROM duroxide.history c JOIN reachable r ON r.instance_id = c.instance_id
             WHERE c.event_type IN ('ActivityCompleted', 'ActivityFailed', 'ActivityCancelRequested')
        ), orch_rows AS (
            SELECT 'orchestration'::text AS kind, r.orchestration_name AS name, count(*) AS started,
                   count(*) FILTER (WHERE e.status = 'Completed') AS completed,
                   count(*) FILTER (WHERE e.status = 'Failed' AND NOT e.error::jsonb @? '$.Application.kind.Cancelled')
                       AS failed,
                   count(*) FILTER (WHERE e.status = 'Failed' AND e.error::jsonb @? '$.Application.kind.Cancelled')
                       AS cancelled,
                   count(*) FILTER (WHERE e.status = 'ContinuedAsNew') AS continued_as_new,
                   count(*) FILTER (WHERE e.status = 'Running') AS open,
                   avg(e.completed_at - e.started_at) AS avg_duration,
                   max(e.completed_at - e.started_at) AS max_duration
              FROM reachable r JOIN duroxide.executions e ON e.instance_id = r.instance_id
             GROUP BY r.orchestration_name
        ), act_rows AS (
            SELECT 'activity'::text AS kind, a.name, count(*) AS started,
                   count(*) FILTER (WHERE d.event_type = 'ActivityCompleted') AS completed,
                   count(*) FILTER (WHERE d.event_type = 'ActivityFailed') AS failed,
                   count(*) FILTER (WHERE d.event_type = 'ActivityCancelRequested') AS cancelled,
                   0::bigint AS continued_as_new,
                   count(*) FILTER (WHERE d.event_type IS NULL) AS open,
                   avg(d.created_at - a.created_at) FILTER (WHERE d.event_type <> 'ActivityCancelRequested')
                       AS avg_duration,
                   max(d.created_at - a.created_at) FILTER (WHERE d.event_type <> 'ActivityCancelRequested')
                       AS max_duration
              FROM act a
              LEFT JOIN act_done d ON d.instance_id = a.instance_id AND d.execution_id = a.execution_id
                                  AND d.id = a.event_id
             GROUP BY a.name
        )
        SELECT kind, name, started, completed, failed, cancelled, continued_as_new, open,
               avg_duration, max_duration
          FROM orch_rows
        UNION ALL
        SELECT kind, name, started, completed, failed, cancelled, continued_as_new, open,
               avg_duration, max_duration
          FROM act_rows;
    END;
COMMENT ON FUNCTION duroxide.get_metrics_by_name() IS
    'Rows of the duroxide.metrics_by_name view (over the instances the caller may reach).';

CREATE OR REPLACE VIEW duroxide.metrics_by_name AS SELECT * FROM duroxide.get_metrics_by_name();
COMMENT ON VIEW duroxide.metrics_by_name IS
    'Per orchestration name (executions: started, completed, failed, continued as new, running, '
    'average and longest duration of finished ones) and per activity name (scheduled, '
    'completed, failed, cancelled, open, average and longest time from scheduling to result), '
    'over the instances the caller may reach and still stored. Reads the store: for an '
    'occasional look, not for polling (duroxide.metrics has the cheap server-wide counters).';

REVOKE ALL ON FUNCTION duroxide.get_instances_overview(), duroxide.get_metrics_by_name()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.get_instances_overview(), duroxide.get_metrics_by_name()
    TO duroxide_admin, duroxide_user;
REVOKE ALL ON duroxide.instances_overview, duroxide.metrics_by_name FROM PUBLIC;
GRANT SELECT ON duroxide.instances_overview, duroxide.metrics_by_name
    TO duroxide_admin, duroxide_user;
REVOKE ALL ON FUNCTION duroxide.history_view(text, bigint), duroxide.pending_work(text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.history_view(text, bigint), duroxide.pending_work(text)
    TO duroxide_admin, duroxide_user;
-- Rewind a failed instance, and cancel with a grace period (docs/architecture.md "Rewind";
-- docs/plugin-guide.md "Graceful cancellation"). The rewind's rule lives in the core
-- (core::plan_rewind, behind duroxide._rewind_plan); the statements here apply it.
CREATE OR REPLACE FUNCTION duroxide._wake_at_commit() RETURNS void
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_wake_at_commit';
COMMENT ON FUNCTION duroxide._wake_at_commit() IS
    'Internal: wakes this database''s dispatchers, activity workers and status waiters when the transaction commits.';
REVOKE ALL ON FUNCTION duroxide._wake_at_commit() FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide._rewind_plan(instance text, history text,
    OUT action text, OUT event_id bigint, OUT detail text)
    RETURNS SETOF record
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'duroxide_rewind_plan';
COMMENT ON FUNCTION duroxide._rewind_plan(text, text) IS
    'Internal: the rewind plan of an execution''s history (a JSON array): events to drop, '
    'activities and timers to queue again, children to rewind; raises the refusal otherwise.';
REVOKE ALL ON FUNCTION duroxide._rewind_plan(text, text) FROM PUBLIC;
-- Saved by pg_dump with the instances they belong to (sql/install/81_backup_rewinds.sql).
REVOKE ALL ON duroxide.rewinds, duroxide.rewound_events FROM PUBLIC;
GRANT SELECT ON duroxide.rewinds, duroxide.rewound_events TO duroxide_admin;

CREATE OR REPLACE FUNCTION duroxide._rewind(instance text, reason text, as_child boolean,
                                 parent_rewind bigint)
    RETURNS TABLE (instance_id text, action text, event_id bigint, detail text)
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    inst duroxide.instances%ROWTYPE;
    exec_status text;
    exec_error text;
    history_json text;
    rid bigint;
    p record;
    shown text := left(instance, 200);
BEGIN
    SELECT * INTO inst FROM duroxide.instances i WHERE i.instance_id = _rewind.instance FOR UPDATE;
    IF NOT FOUND OR NOT duroxide._may_access(inst.owner_role) THEN
        RAISE EXCEPTION 'instance "%" does not exist', shown
            USING ERRCODE = 'no_data_found',
                  HINT = 'duroxide.instances_overview lists the instances you may see.';
    END IF;
    IF inst.parent_instance_id IS NOT NULL AND NOT as_child THEN
        RAISE EXCEPTION 'cannot rewind instance "%": it is a sub-orchestration of "%"',
                        shown, left(inst.parent_instance_id, 200)
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Rewind its root instance: a rewind retries the failed sub-orchestrations '
                         'the parent waits on.';
    END IF;
    IF EXISTS (SELECT 1 FROM duroxide.instance_locks l
                WHERE l.instance_id = inst.instance_id AND l.locked_until > clock_timestamp()
                  AND duroxide._lock_holder_alive(l.locked_by)) THEN
        RAISE EXCEPTION 'cannot rewind instance "%": a dispatcher is processing it', shown
            USING ERRCODE = 'lock_not_available', HINT = 'Try again in a moment.';
    END IF;
    SELECT e.status, e.error INTO exec_status, exec_error FROM duroxide.executions e
     WHERE e.instance_id = inst.instance_id AND e.execution_id = inst.current_execution_id
       FOR UPDATE;
    IF exec_status IS DISTINCT FROM 'Failed' THEN
        RAISE EXCEPTION 'cannot rewind instance "%": it is %, not Failed', shown,
                        coalesce(duroxide._client_status(exec_status), 'not started')
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Only a Failed instance can be rewound.';
    END IF;
    SELECT '[' || string_agg(h.event_data, ',' ORDER BY h.event_id) || ']' INTO history_json
      FROM duroxide.history h
     WHERE h.instance_id = inst.instance_id AND h.execution_id = inst.current_execution_id;

    INSERT INTO duroxide.rewinds (instance_id, execution_id, reason, rewound_by, error,
                                  parent_rewind_id)
    VALUES (inst.instance_id, inst.current_execution_id, reason, duroxide._calling_role(),
            exec_error, parent_rewind)
    RETURNING rewind_id INTO rid;

    FOR p IN SELECT * FROM duroxide._rewind_plan(inst.instance_id, coalesce(history_json, '[]'))
    LOOP
        CASE p.action
        WHEN 'drop' THEN
            WITH gone AS (
                DELETE FROM duroxide.history h
                 WHERE h.instance_id = inst.instance_id
                   AND h.execution_id = inst.current_execution_id AND h.event_id = p.event_id
                RETURNING h.event_id, h.event_type, h.event_data, h.created_at
            )
            INSERT INTO duroxide.rewound_events (rewind_id, event_id, event_type, event_data,
                                                 created_at)
            SELECT rid, gone.event_id, gone.event_type, gone.event_data, gone.created_at FROM gone;
            RETURN QUERY SELECT inst.instance_id, 'dropped'::text, p.event_id,
                   (SELECT r.event_type FROM duroxide.rewound_events r
                     WHERE r.rewind_id = rid AND r.event_id = p.event_id);
        WHEN 'activity' THEN
            DELETE FROM duroxide.worker_queue w
             WHERE w.instance_id = inst.instance_id
               AND w.execution_id = inst.current_execution_id AND w.activity_id = p.event_id;
            INSERT INTO duroxide.worker_queue (work_item, instance_id, execution_id, activity_id,
                                               session_id, tag)
            VALUES (p.detail, inst.instance_id, inst.current_execution_id, p.event_id,
                    p.detail::jsonb->'ActivityExecute'->>'session_id',
                    p.detail::jsonb->'ActivityExecute'->>'tag');
            RETURN QUERY SELECT inst.instance_id, 'retried'::text, p.event_id,
                   p.detail::jsonb->'ActivityExecute'->>'name';
        WHEN 'timer' THEN
            IF NOT EXISTS (
                SELECT 1 FROM duroxide.orchestrator_queue q
                 WHERE q.instance_id = inst.instance_id AND q.work_item LIKE '{"TimerFired"%'
                   AND (q.work_item::jsonb->'TimerFired'->>'id')::bigint = p.event_id
                   AND (q.work_item::jsonb->'TimerFired'->>'execution_id')::bigint
                       = inst.current_execution_id) THEN
                INSERT INTO duroxide.orchestrator_queue (instance_id, work_item, visible_at)
                VALUES (inst.instance_id, p.detail,
                        greatest(clock_timestamp(), to_timestamp(
                            (p.detail::jsonb->'TimerFired'->>'fire_at_ms')::bigint / 1000.0)));
                RETURN QUERY SELECT inst.instance_id, 'rearmed'::text, p.event_id,
                       to_timestamp((p.detail::jsonb->'TimerFired'->>'fire_at_ms')::bigint
                                    / 1000.0)::text;
            END IF;
        WHEN 'child' THEN
            RETURN QUERY SELECT inst.instance_id, 'rewound child'::text, p.event_id, p.detail;
            RETURN QUERY SELECT * FROM duroxide._rewind(p.detail, reason, true, rid);
        END CASE;
    END LOOP;
    -- The failure closed the instance's explicit sessions (a terminal turn deletes its
    -- open_sessions rows); the rewound execution has them open again: those its history left
    -- open, in order (the ones continue-as-new carried in OrchestrationStarted, then each
    -- SessionOpened and SessionClosed).
    DELETE FROM duroxide.open_sessions o WHERE o.instance_id = inst.instance_id;
    INSERT INTO duroxide.open_sessions (instance_id, session_id)
    SELECT inst.instance_id, m.session_id
      FROM (SELECT DISTINCT ON (k.session_id) k.session_id, k.is_open
              FROM (SELECT h.event_id, s.session_id, true AS is_open
                      FROM duroxide.history h,
                           jsonb_array_elements_text(
                               CASE WHEN jsonb_typeof(h.event_data::jsonb->'open_sessions') = 'array'
                                    THEN h.event_data::jsonb->'open_sessions'
                                    ELSE '[]'::jsonb END) AS s(session_id)
                     WHERE h.instance_id = inst.instance_id
                       AND h.execution_id = inst.current_execution_id
                       AND h.event_type = 'OrchestrationStarted'
                    UNION ALL
                    SELECT h.event_id, h.event_data::jsonb->>'session_id',
                           h.event_type = 'SessionOpened'
                      FROM duroxide.history h
                     WHERE h.instance_id = inst.instance_id
                       AND h.execution_id = inst.current_execution_id
                       AND h.event_type IN ('SessionOpened', 'SessionClosed')) k
             ORDER BY k.session_id, k.event_id DESC) m
     WHERE m.is_open;
    UPDATE duroxide.executions e SET status = 'Running', output = NULL, error = NULL,
                                     completed_at = NULL
     WHERE e.instance_id = inst.instance_id AND e.execution_id = inst.current_execution_id;
    UPDATE duroxide.instances i SET updated_at = clock_timestamp()
     WHERE i.instance_id = inst.instance_id;
    PERFORM duroxide._wake_at_commit();
END
$fn$;
COMMENT ON FUNCTION duroxide._rewind(text, text, boolean, bigint) IS
    'Internal: rewinds one instance (and, through the plan, its failed children); the body of rewind_instance.';
REVOKE ALL ON FUNCTION duroxide._rewind(text, text, boolean, bigint) FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide.rewind_instance(instance text, reason text)
    RETURNS TABLE (instance_id text, action text, event_id bigint, detail text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF instance IS NULL OR reason IS NULL THEN
        RAISE EXCEPTION 'instance and reason must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF reason = '' OR octet_length(reason) > 4096 THEN
        RAISE EXCEPTION 'reason must be 1 to 4096 bytes, not %', octet_length(reason)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Say why the instance is rewound; duroxide.rewinds keeps it.';
    END IF;
    RETURN QUERY SELECT * FROM duroxide._rewind(instance, reason, false, NULL);
END
$fn$;
COMMENT ON FUNCTION duroxide.rewind_instance(text, text) IS
    'Retries a Failed instance from where it failed: the failed activity and sub-orchestration '
    'results recorded after the code''s last step (and the failure itself) leave the current '
    'execution''s history (kept in duroxide.rewound_events), the activities run again, failed '
    'children are rewound, and the code replays to the same point. Refused with a reason when '
    'that is not safe. Returns what it dropped, retried, re-armed and rewound.';

CREATE OR REPLACE FUNCTION duroxide.cancel_instance(instance text, reason text, grace interval)
    RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    exec_id bigint;
    exec_status text;
    observes boolean;
BEGIN
    IF instance IS NULL OR reason IS NULL OR grace IS NULL THEN
        RAISE EXCEPTION 'instance, reason and grace must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF grace < interval '0' OR grace > interval '7 days' THEN
        RAISE EXCEPTION 'grace must be between 0 and 7 days, not %', grace
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The cancel is forced when the grace period is over; 0 forces it at once.';
    END IF;
    IF octet_length(reason) > 4096 THEN
        RAISE EXCEPTION 'reason must be at most 4096 bytes, not %', octet_length(reason)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT i.current_execution_id, e.status INTO exec_id, exec_status
      FROM duroxide.instances i
      LEFT JOIN duroxide.executions e
             ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
     WHERE i.instance_id = cancel_instance.instance AND duroxide._may_access(i.owner_role);
    IF NOT FOUND THEN
        IF NOT EXISTS (SELECT 1 FROM duroxide.orchestrator_queue q
                        WHERE q.instance_id = cancel_instance.instance
                          AND q.work_item LIKE '{"StartOrchestration"%'
                          AND duroxide._may_access(q.started_by)) THEN
            RAISE EXCEPTION 'instance "%" does not exist', left(instance, 200)
                USING ERRCODE = 'no_data_found',
                      HINT = 'duroxide.instances_overview lists the instances you may see.';
        END IF;
    ELSIF exec_status IN ('Completed', 'Failed') THEN
        RETURN 'finished';
    END IF;
    -- Opted in: the current execution has called cancellation_requested().
    observes := exec_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM duroxide.history h
         WHERE h.instance_id = cancel_instance.instance AND h.execution_id = exec_id
           AND h.event_type = 'ExternalSubscribedPersistent'
           AND h.event_data::jsonb->>'name' = '__duroxide:cancellation');
    IF observes AND grace > interval '0' THEN
        INSERT INTO duroxide.orchestrator_queue (instance_id, work_item)
        VALUES (instance, jsonb_build_object('QueueMessage', jsonb_build_object(
                    'instance', instance, 'name', '__duroxide:cancellation', 'data', reason))::text);
    END IF;
    INSERT INTO duroxide.orchestrator_queue (instance_id, work_item, visible_at)
    VALUES (instance, jsonb_build_object('CancelInstance', jsonb_build_object(
                'instance', instance, 'reason', reason))::text,
            clock_timestamp() + CASE WHEN observes THEN grace ELSE interval '0' END);
    PERFORM duroxide._wake_at_commit();
    RETURN CASE WHEN observes AND grace > interval '0' THEN 'requested' ELSE 'forced' END;
END
$fn$;
COMMENT ON FUNCTION duroxide.cancel_instance(text, text, interval) IS
    'Cancels an instance with a grace period: an execution that called '
    'cancellation_requested() gets the request (that future completes with "reason"), may '
    'compensate and end cancelled, and is cancelled by force when "grace" is over; any other '
    'is cancelled at once, as by cancel_instance(instance, reason). Returns requested, forced '
    'or finished (nothing to do).';

REVOKE ALL ON FUNCTION duroxide.rewind_instance(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.rewind_instance(text, text) TO duroxide_admin, duroxide_user;
REVOKE ALL ON FUNCTION duroxide.cancel_instance(text, text, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.cancel_instance(text, text, interval)
    TO duroxide_admin, duroxide_user;
-- Activity sessions: which activity worker owns each session (docs/user-guide.md, Sessions).
-- A session is pinned to its owner while its lease runs; the owner renews the leases of its
-- busy sessions, idle ones run out. Owners are stable ids (node id, database, worker index);
-- a session whose owner has no live process is claimable at once, and a worker restarted in
-- the owner's slot has its sessions back; locked_by is the process that claimed it. A session
-- belongs to its instance: two instances using one session id share nothing.
REVOKE ALL ON duroxide.session_locks FROM PUBLIC;
GRANT SELECT ON duroxide.session_locks TO duroxide_admin;
REVOKE ALL ON duroxide.open_sessions FROM PUBLIC;
GRANT SELECT ON duroxide.open_sessions TO duroxide_admin;

CREATE OR REPLACE FUNCTION duroxide._session_owner_pid(owner text) RETURNS integer
    LANGUAGE c STRICT VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'duroxide_session_owner_pid';
COMMENT ON FUNCTION duroxide._session_owner_pid(text) IS
    'Internal: the pid of the live activity worker with session owner id "owner", or NULL.';
REVOKE ALL ON FUNCTION duroxide._session_owner_pid(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide._sessions_released(released bigint) RETURNS bigint
    LANGUAGE c STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_sessions_released';
COMMENT ON FUNCTION duroxide._sessions_released(bigint) IS
    'Internal: when "released" > 0, tells the activity workers at commit that sessions were '
    'released (owners drop their session state); returns "released".';
REVOKE ALL ON FUNCTION duroxide._sessions_released(bigint) FROM PUBLIC;

-- Explicitly open sessions and pinned sessions (explicit or implicit), of the instances the
-- caller may reach (duroxide.isolate_instances): a role never sees another role's sessions.
-- The view reads a SECURITY DEFINER function that filters before returning rows, so a
-- caller's own functions in a WHERE clause never see the sessions of other roles.
CREATE OR REPLACE FUNCTION duroxide.get_sessions()
    RETURNS TABLE (instance_id text, session_id text, lifecycle text, owner_id text,
                   worker_pid integer, claimed_at timestamptz, locked_until timestamptz,
                   last_activity_at timestamptz, pending_items bigint, session_state text,
                   opened_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT k.instance_id, k.session_id,
               CASE WHEN os.session_id IS NOT NULL THEN 'open' ELSE 'implicit' END AS lifecycle,
               s.owner_id, o.pid AS worker_pid,
               s.claimed_at, s.locked_until, s.last_activity_at,
               (SELECT pg_catalog.count(*) FROM duroxide.worker_queue w
                 WHERE w.instance_id = k.instance_id AND w.session_id = k.session_id)
                   AS pending_items,
               CASE WHEN s.session_id IS NULL THEN 'unclaimed'
                    WHEN o.pid IS NULL THEN 'orphaned'
                    WHEN s.locked_until <= clock_timestamp() THEN 'expired'
                    WHEN s.last_activity_at <= clock_timestamp()
                         - current_setting('duroxide.session_idle_timeout')::interval THEN 'idle'
                    ELSE 'active' END AS session_state,
               os.opened_at
          FROM (SELECT x.instance_id, x.session_id FROM duroxide.open_sessions x
                UNION SELECT y.instance_id, y.session_id FROM duroxide.session_locks y) k
          JOIN duroxide.instances i ON i.instance_id = k.instance_id
          LEFT JOIN duroxide.open_sessions os
                 ON os.instance_id = k.instance_id AND os.session_id = k.session_id
          LEFT JOIN duroxide.session_locks s
                 ON s.instance_id = k.instance_id AND s.session_id = k.session_id
          LEFT JOIN LATERAL (SELECT duroxide._session_owner_pid(s.owner_id) AS pid) o ON true
         WHERE duroxide._may_access(i.owner_role);
    END;
COMMENT ON FUNCTION duroxide.get_sessions() IS
    'Rows of the duroxide.sessions view (sessions of the instances the caller may reach).';
REVOKE ALL ON FUNCTION duroxide.get_sessions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.get_sessions() TO duroxide_admin, duroxide_user;

CREATE OR REPLACE VIEW duroxide.sessions AS SELECT * FROM duroxide.get_sessions();
COMMENT ON VIEW duroxide.sessions IS
    'Activity sessions of the instances the caller may reach: instance, session id, lifecycle '
    '(open: opened by the orchestration; implicit: pinned by use, never opened), owner (stable '
    'worker id) and its pid while alive, lease, last activity, queued activities, lease state '
    '(active, idle: no longer renewed, expired, orphaned: owner gone, unclaimed: open but not '
    'pinned to a worker; expired, orphaned and unclaimed sessions go to any worker).';
REVOKE ALL ON duroxide.sessions FROM PUBLIC;
GRANT SELECT ON duroxide.sessions TO duroxide_admin, duroxide_user;

CREATE OR REPLACE FUNCTION duroxide.release_session(instance text, session_id text) RETURNS boolean
    LANGUAGE sql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH released AS (
            DELETE FROM duroxide.session_locks l
             WHERE l.instance_id = release_session.instance
               AND l.session_id = release_session.session_id RETURNING 1)
        SELECT duroxide._sessions_released((SELECT count(*) FROM released)) > 0;
    END;
COMMENT ON FUNCTION duroxide.release_session(text, text) IS
    'Unpins session "session_id" of instance "instance": its next activity may go to any worker, '
    'and the owner drops its session state (an explicit session stays open). Returns false when '
    'the session is not pinned.';
REVOKE ALL ON FUNCTION duroxide.release_session(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.release_session(text, text) TO duroxide_admin;

CREATE OR REPLACE FUNCTION duroxide.release_session(session_id text) RETURNS boolean
    LANGUAGE sql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH released AS (
            DELETE FROM duroxide.session_locks l
             WHERE l.session_id = release_session.session_id RETURNING 1)
        SELECT duroxide._sessions_released((SELECT count(*) FROM released)) > 0;
    END;
COMMENT ON FUNCTION duroxide.release_session(text) IS
    'Unpins session "session_id" in every instance that uses that id (the 0.1 form; prefer '
    'release_session(instance, session_id)). Returns false when no such session is pinned.';
REVOKE ALL ON FUNCTION duroxide.release_session(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.release_session(text) TO duroxide_admin;

CREATE OR REPLACE FUNCTION duroxide.release_worker_sessions(owner_id text) RETURNS bigint
    LANGUAGE sql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH released AS (
            DELETE FROM duroxide.session_locks l
             WHERE l.owner_id = release_worker_sessions.owner_id RETURNING 1)
        SELECT duroxide._sessions_released((SELECT count(*) FROM released));
    END;
COMMENT ON FUNCTION duroxide.release_worker_sessions(text) IS
    'Unpins every session of a worker (owner_id as in duroxide.sessions); returns how many.';
REVOKE ALL ON FUNCTION duroxide.release_worker_sessions(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.release_worker_sessions(text) TO duroxide_admin;
-- SQL-authored workflows (docs/workflows.md): definitions are immutable, versioned JSON run by
-- the extension's interpreter orchestration "duroxide.workflow". Written only through the
-- validating SECURITY DEFINER functions below.
COMMENT ON TABLE duroxide.workflow_definitions IS
    'Workflow definitions (duroxide.define_workflow): immutable, one row per name and version.';
REVOKE ALL ON duroxide.workflow_definitions FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide._workflow_definitions_immutable() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION 'workflow definitions are immutable'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Define a new version with duroxide.define_workflow.';
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._workflow_definitions_immutable() FROM PUBLIC;
COMMENT ON FUNCTION duroxide._workflow_definitions_immutable() IS
    'Internal: refuses updates of workflow definitions (a version never changes).';
CREATE OR REPLACE TRIGGER workflow_definitions_immutable BEFORE UPDATE ON duroxide.workflow_definitions
    FOR EACH ROW EXECUTE FUNCTION duroxide._workflow_definitions_immutable();
COMMENT ON TABLE duroxide.workflow_grants IS
    'Roles allowed to start a workflow they do not own (duroxide.grant_workflow).';
REVOKE ALL ON duroxide.workflow_grants FROM PUBLIC;
COMMENT ON TABLE duroxide.workflow_version_policies IS
    'Pinned default versions of workflows (duroxide.set_workflow_version_policy).';
REVOKE ALL ON duroxide.workflow_version_policies FROM PUBLIC;
COMMENT ON TABLE duroxide.workflow_instances IS
    'The workflow name, definition version and labels each workflow instance was started with.';
REVOKE ALL ON duroxide.workflow_instances FROM PUBLIC;

-- A deleted instance takes its workflow row with it (delete_instance, prune, retention: every
-- path deletes duroxide.instances rows), so a later instance with the same id starts clean.
CREATE OR REPLACE FUNCTION duroxide._workflow_instances_deleted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    DELETE FROM duroxide.workflow_instances w USING gone g WHERE w.instance_id = g.instance_id;
    RETURN NULL;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._workflow_instances_deleted() FROM PUBLIC;
COMMENT ON FUNCTION duroxide._workflow_instances_deleted() IS
    'Internal: deletes the workflow_instances rows of deleted instances.';
CREATE OR REPLACE TRIGGER workflow_instances_deleted AFTER DELETE ON duroxide.instances
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION duroxide._workflow_instances_deleted();

CREATE OR REPLACE FUNCTION duroxide._validate_workflow(definition text) RETURNS void
    LANGUAGE c IMMUTABLE STRICT AS 'MODULE_PATHNAME', 'duroxide_validate_workflow';
REVOKE ALL ON FUNCTION duroxide._validate_workflow(text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._validate_workflow(text) IS
    'Internal: validates a workflow definition; SQLSTATE 22023 with the JSON path in DETAIL.';

CREATE OR REPLACE FUNCTION duroxide._may_start_workflow(name text, owner oid, role oid) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT pg_has_role(role, owner, 'USAGE')
            OR pg_has_role(role, 'duroxide_admin', 'USAGE')
            OR EXISTS (SELECT 1 FROM duroxide.workflow_grants g
                        WHERE g.name = _may_start_workflow.name
                          AND pg_has_role(role, g.grantee, 'USAGE'));
    END;
REVOKE ALL ON FUNCTION duroxide._may_start_workflow(text, oid, oid) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._may_start_workflow(text, oid, oid) IS
    'Internal: whether "role" may start workflow "name" owned by "owner" (owner, admin or grant).';

-- Whether "role" has the privileges of the owner: only then does a start without a version take
-- the pinned or newest one (code the owner defines later never runs as another role unnamed).
CREATE OR REPLACE FUNCTION duroxide._workflow_default_version_allowed(owner oid, role oid) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT pg_has_role(role, owner, 'USAGE');
    END;
REVOKE ALL ON FUNCTION duroxide._workflow_default_version_allowed(oid, oid) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._workflow_default_version_allowed(oid, oid) IS
    'Internal: whether "role" may start a workflow owned by "owner" without naming its version.';

CREATE OR REPLACE FUNCTION duroxide._workflow_version_in_use(name text, version text) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT EXISTS (
            SELECT 1 FROM duroxide.workflow_instances w
              LEFT JOIN duroxide.instances i ON i.instance_id = w.instance_id
              LEFT JOIN duroxide.executions e
                     ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
             WHERE w.name = _workflow_version_in_use.name
               AND (_workflow_version_in_use.version IS NULL
                    OR w.version = _workflow_version_in_use.version)
               AND (e.status IN ('Running', 'ContinuedAsNew')
                    OR (i.instance_id IS NULL AND EXISTS (
                            SELECT 1 FROM duroxide.orchestrator_queue q
                             WHERE q.instance_id = w.instance_id))));
    END;
REVOKE ALL ON FUNCTION duroxide._workflow_version_in_use(text, text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._workflow_version_in_use(text, text) IS
    'Internal: whether an instance not yet finished runs a version of workflow "name" (NULL: any).';

CREATE OR REPLACE FUNCTION duroxide.define_workflow(name text, definition jsonb, version text DEFAULT NULL)
    RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    caller oid := duroxide._calling_role();
    owner oid;
    latest text;
    chosen text := version;
BEGIN
    IF name IS NULL OR definition IS NULL THEN
        RAISE EXCEPTION 'name and definition must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF name !~ '^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$' OR name = 'duroxide.workflow' THEN
        RAISE EXCEPTION 'invalid workflow name "%"', left(name, 64)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A name is 1 to 128 letters, digits, "_", ".", ":" or "-", starting with a letter or "_".';
    END IF;
    PERFORM duroxide._validate_workflow(definition::text);
    -- One owner per name: only the role that defined the first version (or a role with its
    -- privileges) adds versions; an admin is no co-owner (its code would run as the owner's
    -- starters).
    PERFORM pg_advisory_xact_lock(hashtext('duroxide.workflow:' || name));
    SELECT d.owner_role,
           (SELECT l.version FROM duroxide.workflow_definitions l WHERE l.name = define_workflow.name
             ORDER BY string_to_array(l.version, '.')::int[] DESC LIMIT 1)
      INTO owner, latest
      FROM duroxide.workflow_definitions d WHERE d.name = define_workflow.name LIMIT 1;
    IF owner IS NOT NULL AND NOT pg_has_role(caller, owner, 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for workflow "%"', name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Another role defined it.',
                  HINT = 'Only its owner (or a member of the owner) defines its versions: choose another name.';
    END IF;
    IF chosen IS NULL THEN
        chosen := CASE WHEN latest IS NULL THEN '1.0.0' ELSE
            (string_to_array(latest, '.')::int[])[1] || '.' || (string_to_array(latest, '.')::int[])[2]
            || '.' || ((string_to_array(latest, '.')::int[])[3] + 1) END;
    ELSIF chosen !~ '^[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,9}$' THEN
        RAISE EXCEPTION 'invalid version "%"', left(chosen, 64)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'A version is MAJOR.MINOR.PATCH, e.g. 1.2.0.';
    ELSIF latest IS NOT NULL
          AND string_to_array(chosen, '.')::int[] <= string_to_array(latest, '.')::int[] THEN
        RAISE EXCEPTION 'version % of workflow "%" must be greater than the latest, %', chosen, name, latest
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Definitions are immutable: define a new version.';
    END IF;
    INSERT INTO duroxide.workflow_definitions (name, version, definition, owner_role, defined_by)
    VALUES (name, chosen, definition, coalesce(owner, caller), caller);
    RETURN chosen;
END
$fn$;
COMMENT ON FUNCTION duroxide.define_workflow(text, jsonb, text) IS
    'Validates and stores an immutable workflow definition as version "version" (default: the '
    'next patch version, 1.0.0 for a new name) and returns the version. Only the name''s owner '
    '(the role that defined its first version) or its members may add versions (42501). Invalid '
    'definitions are refused with SQLSTATE 22023 and the JSON path of the offending node in DETAIL.';

CREATE OR REPLACE FUNCTION duroxide._check_workflow_labels(labels jsonb) RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF labels IS NOT NULL AND (jsonb_typeof(labels) <> 'object'
            OR EXISTS (SELECT 1 FROM jsonb_each(labels) e WHERE jsonb_typeof(e.value) <> 'string')
            OR (SELECT count(*) FROM jsonb_each(labels)) > 32
            OR length(labels::text) > 4096) THEN
        RAISE EXCEPTION 'labels must be a JSON object of at most 32 text values (4 kB)'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example ''{"customer": "c-42", "channel": "web"}''.';
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._check_workflow_labels(jsonb) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._check_workflow_labels(jsonb) IS
    'Internal: the argument check of the labels given at a workflow''s start.';

-- Starts workflow "name" (the exact version, or the newest) as instance "instance": the
-- definition travels in the instance's input, so its history pins the version. The instance is
-- owned by the calling role, and its SQL steps run as that role. A role without the owner's
-- privileges (an admin, a grantee) must name the version. NULL when the instance exists already.
CREATE OR REPLACE FUNCTION duroxide.start_workflow(instance text, name text, input jsonb DEFAULT NULL,
                                        version text DEFAULT NULL, labels jsonb DEFAULT NULL)
    RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    def record;
    caller oid := duroxide._calling_role();
BEGIN
    IF instance IS NULL OR name IS NULL THEN
        RAISE EXCEPTION 'instance and name must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM duroxide._check_workflow_labels(labels);
    -- The given version, else the one the version policy pins, else the newest.
    SELECT d.version, d.definition, d.owner_role INTO def
      FROM duroxide.workflow_definitions d
     WHERE d.name = start_workflow.name
       AND d.version = coalesce(start_workflow.version,
                                (SELECT p.version FROM duroxide.workflow_version_policies p
                                  WHERE p.name = start_workflow.name), d.version)
     ORDER BY string_to_array(d.version, '.')::int[] DESC LIMIT 1;
    IF def.version IS NULL OR NOT duroxide._may_start_workflow(name, def.owner_role, caller) THEN
        RAISE EXCEPTION 'workflow "%"% does not exist', left(name, 128),
                        coalesce(' version ' || left(version, 32), '')
            USING ERRCODE = 'undefined_object',
                  HINT = 'See duroxide.workflows for the workflows you may start.';
    END IF;
    IF version IS NULL AND NOT duroxide._workflow_default_version_allowed(def.owner_role, caller) THEN
        RAISE EXCEPTION 'workflow "%" belongs to another role: name the version to start',
                        left(name, 128)
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Read it with duroxide.show_workflow(name, version) and pass version => '
                         'the one you reviewed; its SQL steps run as you.';
    END IF;
    IF NOT duroxide.start_orchestration(instance, 'duroxide.workflow',
            jsonb_build_object('workflow', name, 'version', def.version,
                               'definition', def.definition, 'input', input)::text) THEN
        RETURN NULL;  -- the instance exists already: nothing started, nothing recorded
    END IF;
    INSERT INTO duroxide.workflow_instances AS w (instance_id, name, version, labels)
    VALUES (instance, name, def.version, coalesce(labels, '{}'))
    ON CONFLICT (instance_id) DO UPDATE
       SET name = excluded.name, version = excluded.version, labels = excluded.labels;
    RETURN def.version;
END
$fn$;
COMMENT ON FUNCTION duroxide.start_workflow(text, text, jsonb, text, jsonb) IS
    'Starts workflow "name" (version "version", default the version policy''s or the newest) as '
    'instance "instance" with '
    '"input" and "labels" (a JSON object of text values, for list_workflow_instances); returns '
    'the version it runs, or NULL (starting nothing) when the instance exists already. Its SQL '
    'steps run as the calling role; a role that is not the owner or its member must name '
    '"version" (42501).';

CREATE OR REPLACE FUNCTION duroxide.start_workflow_definition(instance text, definition jsonb,
                                                   input jsonb DEFAULT NULL,
                                                   labels jsonb DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF instance IS NULL OR definition IS NULL THEN
        RAISE EXCEPTION 'instance and definition must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM duroxide._validate_workflow(definition::text);
    PERFORM duroxide._check_workflow_labels(labels);
    IF duroxide.start_orchestration(instance, 'duroxide.workflow',
            jsonb_build_object('workflow', NULL, 'definition', definition, 'input', input)::text) THEN
        INSERT INTO duroxide.workflow_instances AS w (instance_id, name, version, labels)
        VALUES (instance, NULL, NULL, coalesce(labels, '{}'))
        ON CONFLICT (instance_id) DO UPDATE
           SET name = NULL, version = NULL, labels = excluded.labels;
    END IF;
END
$fn$;
COMMENT ON FUNCTION duroxide.start_workflow_definition(text, jsonb, jsonb, jsonb) IS
    'Validates an ad-hoc workflow definition and starts it as instance "instance" with "input"; '
    'the definition is stored only in the instance''s history.';

-- The rows of duroxide.workflows: filtered here, as the calling role, so that the view needs no
-- privilege on the catalog tables.
CREATE OR REPLACE FUNCTION duroxide._workflows()
    RETURNS TABLE (name text, version text, owner regrole, created_at timestamptz, latest boolean,
                   in_use boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT d.name, d.version, d.owner_role::regrole, d.created_at,
               d.version = (SELECT l.version FROM duroxide.workflow_definitions l
                             WHERE l.name = d.name
                             ORDER BY string_to_array(l.version, '.')::int[] DESC LIMIT 1),
               duroxide._workflow_version_in_use(d.name, d.version)
          FROM duroxide.workflow_definitions d
         WHERE duroxide._may_start_workflow(d.name, d.owner_role, duroxide._calling_role())
         ORDER BY d.name, string_to_array(d.version, '.')::int[];
    END;
REVOKE ALL ON FUNCTION duroxide._workflows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide._workflows() TO duroxide_admin, duroxide_user;
COMMENT ON FUNCTION duroxide._workflows() IS
    'Internal: the rows of duroxide.workflows (the definitions the calling role may start).';

CREATE OR REPLACE VIEW duroxide.workflows AS SELECT * FROM duroxide._workflows();
COMMENT ON VIEW duroxide.workflows IS
    'The workflow definitions the current role may start: name, version, owner, whether it is '
    'the newest version and whether an unfinished instance runs it.';
REVOKE ALL ON duroxide.workflows FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide.show_workflow(name text, version text DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT d.definition FROM duroxide.workflow_definitions d
         WHERE d.name = show_workflow.name
           AND (show_workflow.version IS NULL OR d.version = show_workflow.version)
           AND duroxide._may_start_workflow(d.name, d.owner_role, duroxide._calling_role())
         ORDER BY string_to_array(d.version, '.')::int[] DESC LIMIT 1;
    END;
COMMENT ON FUNCTION duroxide.show_workflow(text, text) IS
    'The definition of workflow "name" at "version" (default: the newest); NULL when there is '
    'none the current role may start.';

CREATE OR REPLACE FUNCTION duroxide.drop_workflow(name text, version text DEFAULT NULL) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    caller oid := duroxide._calling_role();
    owner oid;
    dropped integer;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('duroxide.workflow:' || name));
    SELECT d.owner_role INTO owner FROM duroxide.workflow_definitions d
     WHERE d.name = drop_workflow.name
       AND (drop_workflow.version IS NULL OR d.version = drop_workflow.version) LIMIT 1;
    IF owner IS NULL THEN
        RAISE EXCEPTION 'workflow "%"% does not exist', left(name, 128),
                        coalesce(' version ' || left(version, 32), '')
            USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT pg_has_role(caller, owner, 'USAGE') AND NOT pg_has_role(caller, 'duroxide_admin', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for workflow "%"', name USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF duroxide._workflow_version_in_use(name, version) THEN
        RAISE EXCEPTION 'workflow "%"% is in use by a running instance', name,
                        coalesce(' version ' || version, '')
            USING ERRCODE = 'object_in_use',
                  HINT = 'Wait for its instances to finish, or cancel them.';
    END IF;
    DELETE FROM duroxide.workflow_definitions d
     WHERE d.name = drop_workflow.name
       AND (drop_workflow.version IS NULL OR d.version = drop_workflow.version);
    GET DIAGNOSTICS dropped = ROW_COUNT;
    IF NOT EXISTS (SELECT 1 FROM duroxide.workflow_definitions d WHERE d.name = drop_workflow.name) THEN
        DELETE FROM duroxide.workflow_grants g WHERE g.name = drop_workflow.name;
    END IF;
    DELETE FROM duroxide.workflow_version_policies p
     WHERE p.name = drop_workflow.name
       AND NOT EXISTS (SELECT 1 FROM duroxide.workflow_definitions d
                        WHERE d.name = p.name AND d.version = p.version);
    RETURN dropped;
END
$fn$;
COMMENT ON FUNCTION duroxide.drop_workflow(text, text) IS
    'Drops version "version" of workflow "name" (default: every version) and returns how many; '
    'refused (55006) while an unfinished instance runs it.';

CREATE OR REPLACE FUNCTION duroxide.set_workflow_version_policy(name text, version text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    caller oid := duroxide._calling_role();
    owner oid;
BEGIN
    SELECT d.owner_role INTO owner FROM duroxide.workflow_definitions d
     WHERE d.name = set_workflow_version_policy.name LIMIT 1;
    IF owner IS NULL THEN
        RAISE EXCEPTION 'workflow "%" does not exist', left(name, 128) USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT pg_has_role(caller, owner, 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for workflow "%"', name
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Only its owner (or a member of the owner) sets its version policy.';
    END IF;
    IF version IS NULL THEN
        DELETE FROM duroxide.workflow_version_policies p WHERE p.name = set_workflow_version_policy.name;
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM duroxide.workflow_definitions d
                    WHERE d.name = set_workflow_version_policy.name
                      AND d.version = set_workflow_version_policy.version) THEN
        RAISE EXCEPTION 'workflow "%" has no version "%"', name, left(version, 32)
            USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO duroxide.workflow_version_policies AS p (name, version, set_by)
    VALUES (set_workflow_version_policy.name, set_workflow_version_policy.version, caller)
    ON CONFLICT ON CONSTRAINT workflow_version_policies_pkey DO UPDATE
       SET version = excluded.version, set_by = excluded.set_by, set_at = clock_timestamp();
END
$fn$;
COMMENT ON FUNCTION duroxide.set_workflow_version_policy(text, text) IS
    'Pins the version of workflow "name" that start_workflow uses when given none (NULL: the '
    'newest again) for its owner''s starts; the owner or its members only (42501). Running '
    'instances keep their version.';

CREATE OR REPLACE FUNCTION duroxide.grant_workflow(name text, grantee regrole) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    caller oid := duroxide._calling_role();
    owner oid;
BEGIN
    SELECT d.owner_role INTO owner FROM duroxide.workflow_definitions d
     WHERE d.name = grant_workflow.name LIMIT 1;
    IF owner IS NULL THEN
        RAISE EXCEPTION 'workflow "%" does not exist', left(name, 128) USING ERRCODE = 'undefined_object';
    END IF;
    IF grantee IS NULL THEN
        RAISE EXCEPTION 'grantee must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_has_role(caller, owner, 'USAGE') AND NOT pg_has_role(caller, 'duroxide_admin', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for workflow "%"', name USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO duroxide.workflow_grants (name, grantee, granted_by)
    VALUES (grant_workflow.name, grant_workflow.grantee, caller)
    ON CONFLICT ON CONSTRAINT workflow_grants_pkey DO NOTHING;
END
$fn$;
COMMENT ON FUNCTION duroxide.grant_workflow(text, regrole) IS
    'Lets "grantee" (and its members) start workflow "name"; owner or duroxide_admin only. '
    'Their instances, and SQL steps, run as themselves.';

CREATE OR REPLACE FUNCTION duroxide.revoke_workflow(name text, grantee regrole) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    owner oid;
BEGIN
    SELECT d.owner_role INTO owner FROM duroxide.workflow_definitions d
     WHERE d.name = revoke_workflow.name LIMIT 1;
    IF owner IS NULL THEN
        RAISE EXCEPTION 'workflow "%" does not exist', left(name, 128) USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT pg_has_role(duroxide._calling_role(), owner, 'USAGE')
       AND NOT pg_has_role(duroxide._calling_role(), 'duroxide_admin', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for workflow "%"', name USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM duroxide.workflow_grants g
     WHERE g.name = revoke_workflow.name AND g.grantee = revoke_workflow.grantee;
END
$fn$;
COMMENT ON FUNCTION duroxide.revoke_workflow(text, regrole) IS
    'Withdraws a grant_workflow; running instances are not affected.';

CREATE OR REPLACE FUNCTION duroxide.list_workflow_instances(name text DEFAULT NULL, labels jsonb DEFAULT NULL,
                                                 max_rows integer DEFAULT 100)
    RETURNS TABLE (instance_id text, workflow text, version text, labels jsonb, status text,
                   created_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT w.instance_id, w.name, w.version, w.labels,
               coalesce(duroxide._client_status(e.status), 'Pending'), i.created_at
          FROM duroxide.workflow_instances w
          JOIN duroxide.instances i ON i.instance_id = w.instance_id
          LEFT JOIN duroxide.executions e
                 ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
         WHERE duroxide._may_access(i.owner_role) AND i.orchestration_name = 'duroxide.workflow'
           AND (list_workflow_instances.name IS NULL OR w.name = list_workflow_instances.name)
           AND (list_workflow_instances.labels IS NULL OR w.labels @> list_workflow_instances.labels)
         ORDER BY i.created_at, w.instance_id
         LIMIT greatest(least(coalesce(max_rows, 100), 10000), 0);
    END;
COMMENT ON FUNCTION duroxide.list_workflow_instances(text, jsonb, integer) IS
    'The workflow instances the caller may reach, of workflow "name" and carrying every label of '
    '"labels" (when given), oldest first, at most "max_rows" (up to 10000).';

DO $grants$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'duroxide.define_workflow(text, jsonb, text)',
        'duroxide.start_workflow(text, text, jsonb, text, jsonb)',
        'duroxide.start_workflow_definition(text, jsonb, jsonb, jsonb)',
        'duroxide.list_workflow_instances(text, jsonb, integer)',
        'duroxide.show_workflow(text, text)', 'duroxide.drop_workflow(text, text)',
        'duroxide.grant_workflow(text, regrole)', 'duroxide.revoke_workflow(text, regrole)',
        'duroxide.set_workflow_version_policy(text, text)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO duroxide_admin, duroxide_user', f);
    END LOOP;
END
$grants$;
GRANT SELECT ON duroxide.workflows TO duroxide_admin, duroxide_user;
-- Workflow tools (docs/workflows.md, "Builders" and "Explaining a workflow"): builder functions
-- that return the JSON of one node, so that a definition reads well in psql, and
-- explain_workflow, which renders a definition as indented text or as a Mermaid flowchart.
-- Builders are pure functions of their arguments; they validate nothing themselves
-- (define_workflow validates the whole definition).
-- {key: value}, or {} when value is NULL: the optional fields of a node.
CREATE OR REPLACE FUNCTION duroxide._wf_opt(key text, value jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN CASE WHEN value IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(key, value) END;
COMMENT ON FUNCTION duroxide._wf_opt(text, jsonb) IS
    'Internal: {key: value}, or {} when value is NULL (the optional fields of a builder''s node).';

-- An interval as whole milliseconds (how a definition may give any interval).
CREATE OR REPLACE FUNCTION duroxide._wf_ms(value interval) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN to_jsonb(round(extract(epoch FROM value) * 1000)::bigint);
COMMENT ON FUNCTION duroxide._wf_ms(interval) IS
    'Internal: an interval as a JSON number of milliseconds (NULL stays NULL).';

CREATE OR REPLACE FUNCTION duroxide.wf_as(node jsonb, name text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN node || duroxide._wf_opt('as', to_jsonb(name));
COMMENT ON FUNCTION duroxide.wf_as(jsonb, text) IS
    'Workflow builder: the node with its result kept as $steps.<name> (the "as" field).';

CREATE OR REPLACE FUNCTION duroxide.wf_expr(expression text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('$expr', expression);
COMMENT ON FUNCTION duroxide.wf_expr(text) IS
    'Workflow builder: {"$expr": expression}, a value template evaluated as an expression.';

CREATE OR REPLACE FUNCTION duroxide.wf_seq(VARIADIC steps jsonb[]) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'seq', 'steps', to_jsonb(steps));
COMMENT ON FUNCTION duroxide.wf_seq(jsonb[]) IS
    'Workflow builder: a seq node running the steps in order.';

CREATE OR REPLACE FUNCTION duroxide.wf_sql(query text, params jsonb DEFAULT NULL, name text DEFAULT NULL,
                                tag text DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'sql', 'query', query)
           || duroxide._wf_opt('params', params) || duroxide._wf_opt('as', to_jsonb(name))
           || duroxide._wf_opt('tag', to_jsonb(tag));
COMMENT ON FUNCTION duroxide.wf_sql(text, jsonb, text, text) IS
    'Workflow builder: a sql node (statement with $1..$n bound from the params templates, an '
    'array), its result kept as $steps.<name> when name is given.';

CREATE OR REPLACE FUNCTION duroxide.wf_retry(max_attempts integer, backoff text DEFAULT NULL,
                                  delay interval DEFAULT NULL, max_delay interval DEFAULT NULL,
                                  multiplier double precision DEFAULT NULL,
                                  timeout interval DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('max_attempts', max_attempts)
           || duroxide._wf_opt('backoff', to_jsonb(backoff))
           || duroxide._wf_opt('delay', duroxide._wf_ms(delay))
           || duroxide._wf_opt('max_delay', duroxide._wf_ms(max_delay))
           || duroxide._wf_opt('multiplier', to_jsonb(multiplier))
           || duroxide._wf_opt('timeout', duroxide._wf_ms(timeout));
COMMENT ON FUNCTION duroxide.wf_retry(integer, text, interval, interval, double precision, interval) IS
    'Workflow builder: the retry policy of an activity node (backoff none, fixed, linear or '
    'exponential).';

CREATE OR REPLACE FUNCTION duroxide.wf_activity(activity text, input jsonb DEFAULT NULL,
                                     name text DEFAULT NULL, retry jsonb DEFAULT NULL,
                                     timeout interval DEFAULT NULL, tag text DEFAULT NULL,
                                     session jsonb DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'activity', 'name', activity)
           || duroxide._wf_opt('input', input) || duroxide._wf_opt('as', to_jsonb(name))
           || duroxide._wf_opt('retry', retry)
           || duroxide._wf_opt('timeout', duroxide._wf_ms(timeout))
           || duroxide._wf_opt('tag', to_jsonb(tag)) || duroxide._wf_opt('session', session);
COMMENT ON FUNCTION duroxide.wf_activity(text, jsonb, text, jsonb, interval, text, jsonb) IS
    'Workflow builder: an activity node calling a registered activity with the input template; '
    'retry from duroxide.wf_retry, timeout per attempt.';

CREATE OR REPLACE FUNCTION duroxide.wf_parallel(VARIADIC branches jsonb[]) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'parallel', 'branches', to_jsonb(branches));
COMMENT ON FUNCTION duroxide.wf_parallel(jsonb[]) IS
    'Workflow builder: a parallel node (all branches at once, an array of their results).';

CREATE OR REPLACE FUNCTION duroxide.wf_race(VARIADIC branches jsonb[]) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'race', 'branches', to_jsonb(branches));
COMMENT ON FUNCTION duroxide.wf_race(jsonb[]) IS
    'Workflow builder: a race node (the first branch to finish wins, the others are cancelled).';

CREATE OR REPLACE FUNCTION duroxide.wf_if(condition text, then_node jsonb, else_node jsonb DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'if', 'condition', condition, 'then', then_node)
           || duroxide._wf_opt('else', else_node);
COMMENT ON FUNCTION duroxide.wf_if(text, jsonb, jsonb) IS
    'Workflow builder: an if node (condition is an expression).';

CREATE OR REPLACE FUNCTION duroxide.wf_case(value jsonb, node jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('when', value, 'do', node);
COMMENT ON FUNCTION duroxide.wf_case(jsonb, jsonb) IS
    'Workflow builder: one case of duroxide.wf_switch (run node when the value equals value).';

CREATE OR REPLACE FUNCTION duroxide.wf_switch(value text, default_node jsonb, VARIADIC cases jsonb[])
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'switch', 'value', value, 'cases', to_jsonb(cases))
           || duroxide._wf_opt('default', default_node);
COMMENT ON FUNCTION duroxide.wf_switch(text, jsonb, jsonb[]) IS
    'Workflow builder: a switch node over the expression value, cases from duroxide.wf_case, '
    'default_node (may be NULL) when none matches.';

CREATE OR REPLACE FUNCTION duroxide.wf_foreach(items text, body jsonb, max_in_flight integer DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'foreach', 'items', items, 'body', body)
           || duroxide._wf_opt('max_in_flight', to_jsonb(max_in_flight));
COMMENT ON FUNCTION duroxide.wf_foreach(text, jsonb, integer) IS
    'Workflow builder: a foreach node running body for each element ($item, $index) of the '
    'array expression items, at most max_in_flight at once.';

CREATE OR REPLACE FUNCTION duroxide.wf_loop(body jsonb, while_condition text DEFAULT NULL,
                                 max_iterations bigint DEFAULT NULL,
                                 continue_as_new_every bigint DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'loop', 'body', body)
           || duroxide._wf_opt('while', to_jsonb(while_condition))
           || duroxide._wf_opt('max_iterations', to_jsonb(max_iterations))
           || duroxide._wf_opt('continue_as_new_every', to_jsonb(continue_as_new_every));
COMMENT ON FUNCTION duroxide.wf_loop(jsonb, text, bigint, bigint) IS
    'Workflow builder: a loop node (while_condition checked before each iteration).';

CREATE OR REPLACE FUNCTION duroxide.wf_sleep(duration interval) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'sleep', 'duration', duroxide._wf_ms(duration));
COMMENT ON FUNCTION duroxide.wf_sleep(interval) IS
    'Workflow builder: a sleep node (a durable timer; the interval in milliseconds).';

CREATE OR REPLACE FUNCTION duroxide.wf_wait_event(event text, timeout interval DEFAULT NULL,
                                       name text DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'wait_event', 'event', event)
           || duroxide._wf_opt('timeout', duroxide._wf_ms(timeout))
           || duroxide._wf_opt('as', to_jsonb(name));
COMMENT ON FUNCTION duroxide.wf_wait_event(text, interval, text) IS
    'Workflow builder: a wait_event node (the named external event, optionally with a timeout).';

CREATE OR REPLACE FUNCTION duroxide.wf_dequeue(queue text, timeout interval DEFAULT NULL,
                                    name text DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'dequeue', 'queue', queue)
           || duroxide._wf_opt('timeout', duroxide._wf_ms(timeout))
           || duroxide._wf_opt('as', to_jsonb(name));
COMMENT ON FUNCTION duroxide.wf_dequeue(text, interval, text) IS
    'Workflow builder: a dequeue node (the next message of the instance''s queue).';

CREATE OR REPLACE FUNCTION duroxide.wf_sub_workflow(workflow text, input jsonb DEFAULT NULL,
                                         version text DEFAULT NULL, name text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'sub_workflow', 'workflow', workflow)
           || duroxide._wf_opt('input', input) || duroxide._wf_opt('version', to_jsonb(version))
           || duroxide._wf_opt('as', to_jsonb(name));
COMMENT ON FUNCTION duroxide.wf_sub_workflow(text, jsonb, text, text) IS
    'Workflow builder: a sub_workflow node (a child instance of a defined workflow).';

CREATE OR REPLACE FUNCTION duroxide.wf_set_status(value jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'set_status', 'value', value);
COMMENT ON FUNCTION duroxide.wf_set_status(jsonb) IS
    'Workflow builder: a set_status node (value is a template; a JSON string is the status text).';

CREATE OR REPLACE FUNCTION duroxide.wf_kv_set(key text, value jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'kv_set', 'key', key, 'value', value);
COMMENT ON FUNCTION duroxide.wf_kv_set(text, jsonb) IS
    'Workflow builder: a kv_set node (sets the instance''s key-value entry to the template).';

CREATE OR REPLACE FUNCTION duroxide.wf_fail(message jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'fail', 'message', message);
COMMENT ON FUNCTION duroxide.wf_fail(jsonb) IS
    'Workflow builder: a fail node (message is a template).';

CREATE OR REPLACE FUNCTION duroxide.wf_return(value jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'return', 'value', value);
COMMENT ON FUNCTION duroxide.wf_return(jsonb) IS
    'Workflow builder: a return node (value is a template).';

CREATE OR REPLACE FUNCTION duroxide.wf_try(body jsonb, catch_node jsonb DEFAULT NULL,
                                finally_node jsonb DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'try', 'body', body)
           || duroxide._wf_opt('catch', catch_node) || duroxide._wf_opt('finally', finally_node);
COMMENT ON FUNCTION duroxide.wf_try(jsonb, jsonb, jsonb) IS
    'Workflow builder: a try node (catch runs when body failed, with $error; finally after either).';

-- One line describing a node (without its children): kind, what it runs or waits for, the name
-- its result is kept under.
CREATE OR REPLACE FUNCTION duroxide._wf_describe(node jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    kind text := coalesce(node->>'kind', '?');
    detail text;
    brief CONSTANT integer := 72;
BEGIN
    detail := CASE kind
        WHEN 'sql' THEN regexp_replace(node->>'query', '\s+', ' ', 'g')
                        || coalesce(' ' || (node->'params')::text, '')
        WHEN 'activity' THEN node->>'name' || coalesce(' ' || (node->'input')::text, '')
        WHEN 'http' THEN coalesce(node->>'method', 'GET') || ' ' || (node->>'url')
        WHEN 'sleep' THEN duroxide._wf_interval_text(node->'duration')
        WHEN 'wait_event' THEN '"' || (node->>'event') || '"'
                               || coalesce(' timeout ' || duroxide._wf_interval_text(node->'timeout'), '')
        WHEN 'dequeue' THEN '"' || (node->>'queue') || '"'
                            || coalesce(' timeout ' || duroxide._wf_interval_text(node->'timeout'), '')
        WHEN 'if' THEN node->>'condition'
        WHEN 'switch' THEN node->>'value'
        WHEN 'foreach' THEN node->>'items' || coalesce(' max_in_flight ' || (node->>'max_in_flight'), '')
        WHEN 'loop' THEN concat_ws(' ', 'while ' || (node->>'while'),
                                   'max_iterations ' || (node->>'max_iterations'),
                                   'continue_as_new_every ' || (node->>'continue_as_new_every'))
        WHEN 'while' THEN concat_ws(' ', node->>'condition',
                                    'max_iterations ' || (node->>'max_iterations'),
                                    'continue_as_new_every ' || (node->>'continue_as_new_every'))
        WHEN 'sub_workflow' THEN coalesce(node->>'workflow', 'orchestration ' || (node->>'orchestration'))
                                 || coalesce(' ' || (node->>'version'), '')
        WHEN 'set_status' THEN (node->'value')::text
        WHEN 'kv_set' THEN (node->>'key') || ' = ' || (node->'value')::text
        WHEN 'fail' THEN (node->'message')::text
        WHEN 'return' THEN (node->'value')::text
        ELSE NULL END;
    IF length(detail) > brief THEN
        detail := left(detail, brief - 3) || '...';
    END IF;
    RETURN kind || coalesce(' ' || nullif(detail, ''), '')
           || coalesce(' -> $steps.' || (node->>'as'), '');
END
$fn$;
COMMENT ON FUNCTION duroxide._wf_describe(jsonb) IS
    'Internal: one line describing a workflow node for explain_workflow (its children excluded).';

-- A definition's interval (a number of milliseconds or a text such as "5 s") as text.
CREATE OR REPLACE FUNCTION duroxide._wf_interval_text(value jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN CASE WHEN jsonb_typeof(value) <> 'number' THEN value #>> '{}'
                WHEN (value #>> '{}')::numeric % 86400000 = 0 AND (value #>> '{}')::numeric > 0
                    THEN ((value #>> '{}')::numeric / 86400000)::bigint || ' day'
                WHEN (value #>> '{}')::numeric % 3600000 = 0 AND (value #>> '{}')::numeric > 0
                    THEN ((value #>> '{}')::numeric / 3600000)::bigint || ' h'
                WHEN (value #>> '{}')::numeric % 60000 = 0 AND (value #>> '{}')::numeric > 0
                    THEN ((value #>> '{}')::numeric / 60000)::bigint || ' min'
                WHEN (value #>> '{}')::numeric % 1000 = 0 AND (value #>> '{}')::numeric > 0
                    THEN ((value #>> '{}')::numeric / 1000)::bigint || ' s'
                ELSE (value #>> '{}') || ' ms' END;
COMMENT ON FUNCTION duroxide._wf_interval_text(jsonb) IS
    'Internal: a workflow interval (milliseconds or text) as text.';

-- The children of a node, each with the label of the edge that leads to it, in order.
CREATE OR REPLACE FUNCTION duroxide._wf_children(node jsonb)
    RETURNS TABLE (label text, child jsonb)
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT c.label, c.child FROM (
            SELECT s.n AS ord, s.n::text AS label, s.child
              FROM jsonb_array_elements(CASE WHEN node->>'kind' = 'seq'
                                             THEN node->'steps' END) WITH ORDINALITY AS s(child, n)
            UNION ALL
            SELECT b.n, 'branch ' || b.n, b.child
              FROM jsonb_array_elements(CASE WHEN node->>'kind' IN ('parallel', 'race')
                                             THEN node->'branches' END) WITH ORDINALITY AS b(child, n)
            UNION ALL
            SELECT w.n, 'when ' || (w.c->'when')::text, w.c->'do'
              FROM jsonb_array_elements(CASE WHEN node->>'kind' = 'switch'
                                             THEN node->'cases' END) WITH ORDINALITY AS w(c, n)
            UNION ALL
            SELECT f.ord, f.label, node->f.key
              FROM (VALUES (1001, 'then', 'then'), (1002, 'else', 'else'),
                           (1003, 'default', 'default'), (1004, 'body', 'body'),
                           (1005, 'catch', 'catch'), (1006, 'finally', 'finally'))
                   AS f(ord, label, key)
             WHERE jsonb_typeof(node->f.key) = 'object'
               AND node->>'kind' IN ('if', 'switch', 'try', 'foreach', 'loop', 'while')) c
         ORDER BY c.ord;
    END;
COMMENT ON FUNCTION duroxide._wf_children(jsonb) IS
    'Internal: the child nodes of a workflow node with their edge labels, in order.';

-- The lines of a node and its subtree: indented text, or Mermaid node and edge lines (node ids
-- follow the path: n, n_1, n_1_2, ...).
CREATE OR REPLACE FUNCTION duroxide._wf_explain(node jsonb, format text, id text, label text, depth integer)
    RETURNS SETOF text
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    c record;
    n integer := 0;
BEGIN
    IF depth > 64 THEN
        RETURN;  -- definitions are at most 24 levels deep; this only bounds malformed input
    END IF;
    IF format = 'text' THEN
        RETURN NEXT repeat('  ', depth) || coalesce(label || ': ', '') || duroxide._wf_describe(node);
    ELSE
        RETURN NEXT '  ' || id || '["' || replace(replace(replace(duroxide._wf_describe(node),
                            '&', '#amp;'), '"', '#quot;'), '<', '#lt;') || '"]';
    END IF;
    FOR c IN SELECT * FROM duroxide._wf_children(node) LOOP
        n := n + 1;
        IF format = 'mermaid' THEN
            RETURN NEXT '  ' || id || ' -->|' || replace(replace(c.label, '"', '#quot;'), '|', '#124;')
                        || '| ' || id || '_' || n;
        END IF;
        RETURN QUERY SELECT * FROM duroxide._wf_explain(c.child, format, id || '_' || n,
                                                         c.label, depth + 1);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION duroxide._wf_explain(jsonb, text, text, text, integer) IS
    'Internal: the explain_workflow lines of a node and its subtree.';

CREATE OR REPLACE FUNCTION duroxide.explain_workflow_definition(definition jsonb, format text DEFAULT 'text')
    RETURNS SETOF text
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF format IS NULL OR format NOT IN ('text', 'mermaid') THEN
        RAISE EXCEPTION 'format must be ''text'' or ''mermaid'', not %',
                        coalesce(quote_literal(left(format, 32)), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF definition IS NULL THEN
        RETURN;
    END IF;
    IF format = 'mermaid' THEN
        RETURN NEXT 'flowchart TD';
    END IF;
    RETURN QUERY SELECT * FROM duroxide._wf_explain(definition, format, 'n', NULL, 0);
END
$fn$;
COMMENT ON FUNCTION duroxide.explain_workflow_definition(jsonb, text) IS
    'The graph of a workflow definition, one line per row: indented text (format ''text'') or a '
    'Mermaid flowchart (format ''mermaid'').';

CREATE OR REPLACE FUNCTION duroxide.explain_workflow(name text, version text DEFAULT NULL,
                                          format text DEFAULT 'text')
    RETURNS SETOF text
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    definition jsonb := duroxide.show_workflow(name, version);
BEGIN
    IF definition IS NULL THEN
        RAISE EXCEPTION 'workflow "%"% does not exist', left(name, 128),
                        coalesce(' version ' || left(version, 32), '')
            USING ERRCODE = 'undefined_object',
                  HINT = 'See duroxide.workflows for the workflows you may start.';
    END IF;
    RETURN QUERY SELECT * FROM duroxide.explain_workflow_definition(definition, format);
END
$fn$;
COMMENT ON FUNCTION duroxide.explain_workflow(text, text, text) IS
    'The graph of workflow "name" at "version" (default: the newest) that the current role may '
    'see, one line per row: indented text (format ''text'') or a Mermaid flowchart (''mermaid'').';

DO $grants$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
              WHERE p.pronamespace = 'duroxide'::regnamespace
                AND (p.proname LIKE 'wf\_%' OR p.proname LIKE '\_wf\_%'
                     OR p.proname IN ('explain_workflow', 'explain_workflow_definition')) LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO duroxide_admin, duroxide_user', f);
    END LOOP;
END
$grants$;
-- Workflow builder for the http node (docs/workflows.md). The request is refused unless its host
-- is on the superuser-only GUC duroxide.http_allowed_hosts (empty by default).
CREATE OR REPLACE FUNCTION duroxide.wf_http(method text, url text, headers jsonb DEFAULT NULL,
                                 body jsonb DEFAULT NULL, name text DEFAULT NULL,
                                 timeout interval DEFAULT NULL,
                                 expect_status jsonb DEFAULT NULL, retry jsonb DEFAULT NULL,
                                 tag text DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'http', 'method', upper(method), 'url', url)
           || duroxide._wf_opt('headers', headers) || duroxide._wf_opt('body', body)
           || duroxide._wf_opt('as', to_jsonb(name))
           || duroxide._wf_opt('timeout', duroxide._wf_ms(timeout))
           || duroxide._wf_opt('expect_status', expect_status)
           || duroxide._wf_opt('retry', retry) || duroxide._wf_opt('tag', to_jsonb(tag));
COMMENT ON FUNCTION duroxide.wf_http(text, text, jsonb, jsonb, text, interval, jsonb, jsonb,
                                     text) IS
    'Workflow builder: an http node (url, header values and body are value templates; '
    'expect_status a status, a "from-to" range or an array of those, default "200-299"; retry '
    'from duroxide.wf_retry). Hosts must be on duroxide.http_allowed_hosts.';
REVOKE ALL ON FUNCTION duroxide.wf_http(text, text, jsonb, jsonb, text, interval, jsonb, jsonb, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.wf_http(text, text, jsonb, jsonb, text, interval, jsonb, jsonb,
                                           text) TO duroxide_admin, duroxide_user;
-- workflow_progress: each node of a workflow instance's definition with its state, derived
-- from the history of its current execution by replaying it offline through the interpreter
-- (src/core/workflow/progress.hpp; docs/workflows.md, "Progress").
CREATE OR REPLACE FUNCTION duroxide._workflow_progress(history text) RETURNS text
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'duroxide_workflow_progress';
REVOKE ALL ON FUNCTION duroxide._workflow_progress(text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._workflow_progress(text) IS
    'Internal: the progress rows (JSON) of a workflow execution whose history (a JSON array of '
    'events) is given; called by workflow_progress after its access check.';

CREATE OR REPLACE FUNCTION duroxide.workflow_progress(instance text)
    RETURNS TABLE (path text, kind text, state text, attempts integer,
                   started_at timestamptz, finished_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    execution bigint;
    events text;
BEGIN
    PERFORM duroxide._check_instance_arg(instance);
    SELECT i.current_execution_id INTO execution
      FROM duroxide.instances i
     WHERE i.instance_id = workflow_progress.instance AND duroxide._may_access(i.owner_role);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'instance % does not exist', duroxide._quote(instance)
            USING ERRCODE = 'no_data_found';
    END IF;
    SELECT '[' || string_agg(h.event_data, ',' ORDER BY h.event_id) || ']' INTO events
      FROM duroxide.history h
     WHERE h.instance_id = workflow_progress.instance AND h.execution_id = execution;
    IF events IS NULL THEN
        RETURN; -- started, not run yet
    END IF;
    RETURN QUERY
    SELECT r.path, r.kind, r.state, r.attempts,
           to_timestamp(r.started_ms / 1000.0), to_timestamp(r.finished_ms / 1000.0)
      FROM jsonb_array_elements(duroxide._workflow_progress(events)::jsonb)
               WITH ORDINALITY AS a(row, n),
           jsonb_to_record(a.row) AS r(path text, kind text, state text, attempts integer,
                                       started_ms bigint, finished_ms bigint)
     ORDER BY a.n;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide.workflow_progress(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.workflow_progress(text) TO duroxide_admin, duroxide_user;
COMMENT ON FUNCTION duroxide.workflow_progress(text) IS
    'Each node of a workflow instance''s definition (current execution) in definition order: '
    'kind, state (pending, running, done, failed, cancelled; NULL for a node that schedules no '
    'work itself; unattributed rows, with a NULL path, for work no node can be named for), '
    'times scheduled, first start and last finish. Derived by replaying the history offline. '
    'Errors when the instance does not exist or belongs to another role.';

-- explain_workflow knows the node forms added with workflow_progress: sleep "until", if_rows
-- (its then/else are children) and break (no detail). Replaces the 76_workflow_tools versions.
CREATE OR REPLACE FUNCTION duroxide._wf_describe(node jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    kind text := coalesce(node->>'kind', '?');
    detail text;
    brief CONSTANT integer := 72;
BEGIN
    detail := CASE kind
        WHEN 'sql' THEN regexp_replace(node->>'query', '\s+', ' ', 'g')
                        || coalesce(' ' || (node->'params')::text, '')
        WHEN 'activity' THEN node->>'name' || coalesce(' ' || (node->'input')::text, '')
        WHEN 'http' THEN coalesce(node->>'method', 'GET') || ' ' || (node->>'url')
        WHEN 'sleep' THEN coalesce(duroxide._wf_interval_text(node->'duration'),
                                   'until ' || (node->>'until'))
        WHEN 'wait_event' THEN '"' || (node->>'event') || '"'
                               || coalesce(' timeout ' || duroxide._wf_interval_text(node->'timeout'), '')
        WHEN 'dequeue' THEN '"' || (node->>'queue') || '"'
                            || coalesce(' timeout ' || duroxide._wf_interval_text(node->'timeout'), '')
        WHEN 'if' THEN node->>'condition'
        WHEN 'if_rows' THEN 'rows in $steps.' || (node->>'step')
        WHEN 'switch' THEN node->>'value'
        WHEN 'foreach' THEN node->>'items' || coalesce(' max_in_flight ' || (node->>'max_in_flight'), '')
        WHEN 'loop' THEN concat_ws(' ', 'while ' || (node->>'while'),
                                   'max_iterations ' || (node->>'max_iterations'),
                                   'continue_as_new_every ' || (node->>'continue_as_new_every'))
        WHEN 'while' THEN concat_ws(' ', node->>'condition',
                                    'max_iterations ' || (node->>'max_iterations'),
                                    'continue_as_new_every ' || (node->>'continue_as_new_every'))
        WHEN 'sub_workflow' THEN coalesce(node->>'workflow', 'orchestration ' || (node->>'orchestration'))
                                 || coalesce(' ' || (node->>'version'), '')
        WHEN 'set_status' THEN (node->'value')::text
        WHEN 'kv_set' THEN (node->>'key') || ' = ' || (node->'value')::text
        WHEN 'fail' THEN (node->'message')::text
        WHEN 'return' THEN (node->'value')::text
        ELSE NULL END;
    IF length(detail) > brief THEN
        detail := left(detail, brief - 3) || '...';
    END IF;
    RETURN kind || coalesce(' ' || nullif(detail, ''), '')
           || coalesce(' -> $steps.' || (node->>'as'), '');
END
$fn$;

CREATE OR REPLACE FUNCTION duroxide._wf_children(node jsonb)
    RETURNS TABLE (label text, child jsonb)
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT c.label, c.child FROM (
            SELECT s.n AS ord, s.n::text AS label, s.child
              FROM jsonb_array_elements(CASE WHEN node->>'kind' = 'seq'
                                             THEN node->'steps' END) WITH ORDINALITY AS s(child, n)
            UNION ALL
            SELECT b.n, 'branch ' || b.n, b.child
              FROM jsonb_array_elements(CASE WHEN node->>'kind' IN ('parallel', 'race')
                                             THEN node->'branches' END) WITH ORDINALITY AS b(child, n)
            UNION ALL
            SELECT w.n, 'when ' || (w.c->'when')::text, w.c->'do'
              FROM jsonb_array_elements(CASE WHEN node->>'kind' = 'switch'
                                             THEN node->'cases' END) WITH ORDINALITY AS w(c, n)
            UNION ALL
            SELECT f.ord, f.label, node->f.key
              FROM (VALUES (1001, 'then', 'then'), (1002, 'else', 'else'),
                           (1003, 'default', 'default'), (1004, 'body', 'body'),
                           (1005, 'catch', 'catch'), (1006, 'finally', 'finally'))
                   AS f(ord, label, key)
             WHERE jsonb_typeof(node->f.key) = 'object'
               AND node->>'kind' IN ('if', 'if_rows', 'switch', 'try', 'foreach', 'loop',
                                                'while')) c
         ORDER BY c.ord;
    END;

-- Builders of the node forms added with workflow_progress (as 76_workflow_tools' builders:
-- pure, validated by define_workflow).
CREATE OR REPLACE FUNCTION duroxide.wf_sleep_until(until text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'sleep', 'until', until);
COMMENT ON FUNCTION duroxide.wf_sleep_until(text) IS
    'Workflow builder: a sleep node until the timestamp an expression gives (ISO-8601 text or '
    'Unix milliseconds).';

CREATE OR REPLACE FUNCTION duroxide.wf_if_rows(step text, then_node jsonb, else_node jsonb DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'if_rows', 'step', step, 'then', then_node)
           || duroxide._wf_opt('else', else_node);
COMMENT ON FUNCTION duroxide.wf_if_rows(text, jsonb, jsonb) IS
    'Workflow builder: an if_rows node (then when the sql step named step returned rows).';

CREATE OR REPLACE FUNCTION duroxide.wf_break() RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN '{"kind": "break"}'::jsonb;
COMMENT ON FUNCTION duroxide.wf_break() IS
    'Workflow builder: a break node (ends the innermost loop).';

REVOKE ALL ON FUNCTION duroxide.wf_sleep_until(text), duroxide.wf_if_rows(text, jsonb, jsonb),
    duroxide.wf_break() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.wf_sleep_until(text), duroxide.wf_if_rows(text, jsonb, jsonb),
    duroxide.wf_break() TO duroxide_admin, duroxide_user;
-- Start this database's workers when CREATE EXTENSION commits.
CREATE OR REPLACE FUNCTION duroxide_internal.activate_database() RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_activate_database';
COMMENT ON FUNCTION duroxide_internal.activate_database() IS
    'Internal: ask the launcher to start this database''s workers when the transaction commits.';
-- Internal helpers of the client and management functions: what each is for, like every
-- other function of the extension (not part of the API; not granted to the roles).
COMMENT ON FUNCTION duroxide._may_access(oid) IS
    'Internal: whether the calling role may reach an instance owned by "owner" (instance isolation).';
COMMENT ON FUNCTION duroxide._calling_role() IS
    'Internal: the role a SECURITY DEFINER function was called by (the session''s current role).';
COMMENT ON FUNCTION duroxide._status_change_count() IS
    'Internal: the count of committed status changes, read by the waits before they sleep.';
COMMENT ON FUNCTION duroxide._await_status_change(bigint, integer) IS
    'Internal: sleeps on the backend''s latch until the status change count passes "seen" or "timeout_ms" pass.';
COMMENT ON FUNCTION duroxide._check_wait(text, interval) IS
    'Internal: the argument, isolation level and uncommitted-start checks of the waits.';
COMMENT ON FUNCTION duroxide._kv_live(text) IS
    'Internal: the live view of an instance''s keys (kv_store merged with kv_delta); empty when the caller may not reach it.';
COMMENT ON FUNCTION duroxide._check_kv_arguments(text, text) IS
    'Internal: the argument checks of the key-value client functions.';
COMMENT ON FUNCTION duroxide._client_status(text) IS
    'Internal: the status a client sees for an execution status (ContinuedAsNew reads as Running).';
COMMENT ON FUNCTION duroxide._delete_trees(text[]) IS
    'Internal: deletes the instance trees rooted at "roots" with their queued work and locks; returns the counts.';
COMMENT ON FUNCTION duroxide._prunable(bigint, text, timestamptz, bigint, integer, timestamptz) IS
    'Internal: the rule of prune_executions, whether an execution may be pruned.';
COMMENT ON FUNCTION duroxide._require_admin(text) IS
    'Internal: raises insufficient_privilege unless the calling role has the privileges of duroxide_admin.';
COMMENT ON FUNCTION duroxide._allowed_roles(regrole[]) IS
    'Internal: an activity allow-list as stored (sorted, distinct; NULL or empty is NULL); raises on NULL elements.';
COMMENT ON FUNCTION duroxide._may_call_activity(oid, oid, regrole[]) IS
    'Internal: whether instances owned by "caller" may call an activity registered by "registrant" with allow-list "allowed".';
COMMENT ON FUNCTION duroxide._function_fingerprint(regprocedure) IS
    'Internal: SHA-256 of a function''s owner and definition, recorded at registration and re-checked before each run.';
-- Last piece: every internal function is for duroxide_admin only, whichever piece defined it.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA duroxide_internal FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA duroxide_internal TO duroxide_admin;
-- duroxide upgrade 0.1.0 -> 0.2.0, the part after sql/objects (sql/README.md): data changes
-- that need a function of the new version.

-- The fingerprint of each SQL activity's function, as a registration records it; a function
-- dropped since gets '' (its activity fails until it is registered again).
UPDATE duroxide.sql_activities a
   SET definition_hash = CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_proc p WHERE p.oid = a.function_oid)
                              THEN duroxide._function_fingerprint(a.function_oid) ELSE '' END;
ALTER TABLE duroxide.sql_activities ALTER COLUMN definition_hash SET NOT NULL;
