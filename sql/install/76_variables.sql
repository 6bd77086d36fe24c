-- Per-owner workflow variables (docs/workflows.md, "Variables"): named JSON values owned by a
-- role, written only through duroxide.set_variable / delete_variable (SECURITY DEFINER).
CREATE TABLE duroxide.variables (
    owner_role  oid NOT NULL,
    name        text NOT NULL CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,127}$'),
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (owner_role, name)
);
-- (its pg_dump registration is in 81_workflows_backup.sql, in the same order as the upgrade.)
