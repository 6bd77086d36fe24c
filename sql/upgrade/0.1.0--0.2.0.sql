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
-- The status waits' helpers take the instance waited for (a commit wakes its waiters only).
DROP FUNCTION duroxide._status_change_count();
DROP FUNCTION duroxide._await_status_change(bigint, integer);
-- The boundary self-tests left the product (test/probes builds them for the tests only).
DROP FUNCTION duroxide_internal.selftest_throw(text);
DROP FUNCTION duroxide_internal.selftest_unwound();
DROP FUNCTION duroxide_internal.selftest_catch(text);

-- Storage parameters of the tables that churn (sql/install/20_store_schema.sql): vacuumed at
-- each autovacuum visit once 1000 rows died or were inserted, without the cost delay; room
-- for HOT updates where rows are updated. (session_locks gets them with its CREATE TABLE.)
ALTER TABLE duroxide.instances SET (fillfactor = 90);
ALTER TABLE duroxide.executions SET (fillfactor = 90);
ALTER TABLE duroxide.orchestrator_queue SET (fillfactor = 50,
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0);
ALTER TABLE duroxide.worker_queue SET (fillfactor = 50,
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0);
ALTER TABLE duroxide.instance_locks SET (fillfactor = 70,
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0);
-- The orchestrator queue's key is (instance_id, id), which replaces its index on those
-- columns: one index entry less per message (sql/install/20_store_schema.sql).
ALTER TABLE duroxide.orchestrator_queue DROP CONSTRAINT orchestrator_queue_pkey;
DROP INDEX duroxide.orchestrator_queue_instance;
ALTER TABLE duroxide.orchestrator_queue ADD PRIMARY KEY (instance_id, id);

-- A released instance lock stays as a free row (lock_token NULL), updated in place by the
-- next fetch (sql/install/20_store_schema.sql).
ALTER TABLE duroxide.instance_locks ALTER COLUMN lock_token DROP NOT NULL;
-- A fetch records the ids of the messages it claims in the instance's lock row instead of
-- writing each message (orchestrator_queue.lock_token is no longer written).
ALTER TABLE duroxide.instance_locks ADD COLUMN claimed bigint[];

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
) WITH (fillfactor = 70,
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0);
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

CREATE TABLE duroxide.variables (
    owner_role  oid NOT NULL,
    name        text NOT NULL CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,127}$'),
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (owner_role, name)
);

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
SELECT pg_catalog.pg_extension_config_dump('duroxide.variables', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.open_sessions', '');

-- Completion notifications: the secret of the channel names (sql/install/77_notifications.sql).
CREATE TABLE duroxide.notification_secret (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    secret     bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
INSERT INTO duroxide.notification_secret (secret)
VALUES (pg_catalog.decode(pg_catalog.replace(pg_catalog.gen_random_uuid()::text
                                             || pg_catalog.gen_random_uuid()::text, '-', ''),
                          'hex'));
-- Recurring schedules (duroxide.create_schedule, sql/objects/82_schedules.sql): one row per
-- schedule, owned by the role that created it; the dispatchers fire them
-- (runtime/services/schedule_runner). Saved by pg_dump, after the other dumped tables.
CREATE TABLE duroxide.schedules (
    name              text PRIMARY KEY,
    owner_role        oid NOT NULL,
    cron              text NOT NULL,
    time_zone         text,
    kind              text NOT NULL CHECK (kind IN ('orchestration', 'workflow')),
    orchestration     text NOT NULL,
    version           text,
    input             text NOT NULL DEFAULT '',
    overlap           text NOT NULL DEFAULT 'skip'
                      CHECK (overlap IN ('skip', 'buffer_one', 'allow_all')),
    catch_up          text NOT NULL DEFAULT 'skip_missed'
                      CHECK (catch_up IN ('skip_missed', 'run_once', 'backfill_all', 'bounded')),
    catch_up_max      integer NOT NULL DEFAULT 1 CHECK (catch_up_max BETWEEN 1 AND 100),
    paused            boolean NOT NULL DEFAULT false,
    next_fire_at      timestamptz,
    pending_fire_at   timestamptz,
    last_fire_at      timestamptz,
    last_instance_id  text,
    fires             bigint NOT NULL DEFAULT 0,
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX schedules_due ON duroxide.schedules (next_fire_at) WHERE NOT paused;
SELECT pg_catalog.pg_extension_config_dump('duroxide.schedules', '');
-- Remote activity workers (sql/objects/84_remote_workers.sql): their role, checked as the
-- install's roles are (sql/install/00_header_roles.sql).
DO $roles$
DECLARE
    r record;
BEGIN
    SELECT a.* INTO r FROM pg_catalog.pg_roles a WHERE a.rolname = 'duroxide_worker';
    IF NOT FOUND THEN
        CREATE ROLE duroxide_worker NOLOGIN;
    ELSIF r.rolcanlogin OR r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolreplication
          OR r.rolbypassrls OR r.rolconfig IS NOT NULL
          OR EXISTS (SELECT FROM pg_catalog.pg_auth_members m WHERE m.member = r.oid) THEN
        RAISE EXCEPTION 'role duroxide_worker already exists and was not created by the duroxide install'
            USING ERRCODE = 'insufficient_privilege',
            HINT = 'A superuser should check who created it, then drop it (or ALTER ROLE it back '
                || 'to NOLOGIN with no attributes, settings or memberships) and update again.';
    END IF;
END
$roles$;
