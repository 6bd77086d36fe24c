-- Workflow definitions in duroxide.registered_handlers: one row per version (owner as the
-- provider, the version policy and the default version), visible only to roles that may
-- start the workflow (its owner, roles it grants, admins): no leak across roles.
\set SHOW_CONTEXT never
CREATE ROLE wfh_hana LOGIN;
CREATE ROLE wfh_ivan LOGIN;
GRANT duroxide_user TO wfh_hana, wfh_ivan;

SET ROLE wfh_hana;
SELECT duroxide.define_workflow('wfh_private', '{"kind":"return","value":1}');
SELECT duroxide.define_workflow('wfh_private', '{"kind":"return","value":2}');
SELECT duroxide.define_workflow('wfh_shared', '{"kind":"return","value":3}');
SELECT kind, name, version, provider_type, provider, version_policy, default_version
  FROM duroxide.registered_handlers WHERE kind = 'workflow' AND name LIKE 'wfh%'
 ORDER BY name, version;
RESET ROLE;

-- Another role sees none of them.
SET ROLE wfh_ivan;
SELECT count(*) AS seen_by_ivan FROM duroxide.registered_handlers WHERE kind = 'workflow';
RESET ROLE;

-- A grant makes that workflow (and only it) visible; a version policy shows.
SET ROLE wfh_hana;
SELECT duroxide.grant_workflow('wfh_shared', 'wfh_ivan');
SELECT duroxide.set_workflow_version_policy('wfh_private', '1.0.0');
RESET ROLE;
SET ROLE wfh_ivan;
SELECT kind, name, version, provider, version_policy, default_version
  FROM duroxide.registered_handlers WHERE kind = 'workflow' ORDER BY name, version;
RESET ROLE;
SET ROLE wfh_hana;
SELECT name, version, version_policy, default_version
  FROM duroxide.registered_handlers WHERE kind = 'workflow' AND name = 'wfh_private'
 ORDER BY version;
RESET ROLE;

-- An admin sees every definition.
SELECT name, version, provider FROM duroxide.registered_handlers
 WHERE kind = 'workflow' AND name LIKE 'wfh%' ORDER BY name, version;

-- The roles are cluster-wide: dropped, so that the suite runs again on the same server.
DROP OWNED BY wfh_hana, wfh_ivan;
DROP ROLE wfh_hana, wfh_ivan;
