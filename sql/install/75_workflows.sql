-- SQL-authored workflows (docs/workflows.md): definitions are immutable, versioned JSON run by
-- the extension's interpreter orchestration "duroxide.workflow". Written only through the
-- validating SECURITY DEFINER functions below.
CREATE TABLE duroxide.workflow_definitions (
    name        text NOT NULL CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$'),
    version     text NOT NULL CHECK (version ~ '^[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,9}$'),
    definition  jsonb NOT NULL,
    owner_role  oid NOT NULL,  -- the role that defined the name's first version
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    defined_by  oid NOT NULL,  -- the role that defined this version (the owner or a member)
    PRIMARY KEY (name, version)
);

-- Who else may start a workflow (its owner and members of the owner always may;
-- duroxide_admin and grantees only at a version they name: docs/workflows.md, "Who runs what").
CREATE TABLE duroxide.workflow_grants (
    name        text NOT NULL,
    grantee     oid NOT NULL,
    granted_by  oid NOT NULL,
    granted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (name, grantee)
);

-- Which version new instances get when none is given (no row: the newest).
CREATE TABLE duroxide.workflow_version_policies (
    name        text PRIMARY KEY,
    version     text NOT NULL,
    set_by      oid NOT NULL,
    set_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The definition version each workflow instance runs (a version in use cannot be dropped).
CREATE TABLE duroxide.workflow_instances (
    instance_id text PRIMARY KEY,
    name        text,   -- NULL for an ad-hoc definition
    version     text,
    labels      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object')
);
CREATE INDEX ON duroxide.workflow_instances (name, version);
