-- Registration catalog: plugins (C++ shared libraries) and SQL functions registered as
-- activities. A handler name belongs to exactly one provider.

CREATE TABLE duroxide.plugins (
    name           text PRIMARY KEY,
    path           text NOT NULL,
    abi_version    integer NOT NULL,
    registered_by  regrole NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Whether registered_by was a superuser when it registered: only then may ctx.sql() of the
    -- plugin's activities run as a superuser.
    registered_by_superuser  boolean NOT NULL DEFAULT false,
    allowed_roles  regrole[],  -- who may call its activities (NULL: see _may_call_activity)
    -- The library the workers load (file <library>.so): the name at registration, another
    -- build's file after duroxide.reload_plugin(name, library).
    library        text NOT NULL,
    reloaded_at    timestamptz  -- the last duroxide.reload_plugin (NULL: never)
);

CREATE TABLE duroxide.plugin_handlers (
    plugin   text NOT NULL REFERENCES duroxide.plugins (name) ON DELETE CASCADE,
    kind     text NOT NULL CHECK (kind IN ('orchestration', 'activity')),
    name     text NOT NULL,
    version  text NOT NULL DEFAULT '',  -- semver for orchestrations, '' for activities
    PRIMARY KEY (kind, name, version)
);
CREATE INDEX ON duroxide.plugin_handlers (plugin);

CREATE TABLE duroxide.sql_activities (
    name           text PRIMARY KEY,
    function_oid   regprocedure NOT NULL,
    input_type     regtype NOT NULL,
    output_type    regtype NOT NULL,
    run_as         regrole NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    registered_by_superuser  boolean NOT NULL DEFAULT false,
    definition_hash    text NOT NULL,  -- duroxide._function_fingerprint at registration
    allowed_roles      regrole[],      -- who may call it (NULL: see _may_call_activity)
    statement_timeout  interval        -- NULL: duroxide.activity_statement_timeout
);

-- Version policies: which version of an orchestration new instances get when no version is
-- given (at start, for sub-orchestrations and continue-as-new without one). Rows are updated,
-- never deleted (NULL = latest), so workers see every change by max(set_at).
CREATE TABLE duroxide.version_policies (
    orchestration  text PRIMARY KEY,
    version        text,
    set_by         regrole NOT NULL,
    set_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
