-- Scenario 15 end to end: the version policy of an orchestration, changed at run time with
-- duroxide.set_version_policy. Versioned has 1.0.0 (output "v1") and 2.0.0 (output "v2").
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
SELECT duroxide.register_plugin('duroxide_sample') > 0 AS registered;
SELECT name, version, version_policy, default_version
  FROM duroxide.registered_handlers WHERE name IN ('Versioned', 'HelloWorld') ORDER BY name, version;

-- Latest by default: a plain start runs 2.0.0.
SELECT duroxide.start_orchestration('ver-latest', 'Versioned', '');
SELECT status, output, orchestration_version
  FROM duroxide.wait_for_orchestration('ver-latest', '30 s');

-- Exact 1.0.0: the running dispatcher applies it to the next start, without a restart; an
-- explicit version still wins.
SELECT duroxide.set_version_policy('Versioned', '1.0.0');
SELECT name, version, version_policy, default_version
  FROM duroxide.registered_handlers WHERE name = 'Versioned' ORDER BY version;
SELECT duroxide.start_orchestration('ver-exact', 'Versioned', '');
SELECT duroxide.start_orchestration('ver-explicit', 'Versioned', '', '2.0.0');
SELECT id, w.status, w.output, w.orchestration_version
  FROM unnest(ARRAY['ver-exact', 'ver-explicit']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '30 s') w;

-- Reset (NULL = latest): plain starts run 2.0.0 again.
SELECT duroxide.set_version_policy('Versioned', NULL);
SELECT duroxide.start_orchestration('ver-reset', 'Versioned', '');
SELECT status, output, orchestration_version
  FROM duroxide.wait_for_orchestration('ver-reset', '30 s');
SELECT orchestration, version, set_by = current_user::regrole AS set_by_me
  FROM duroxide.version_policies;

-- Bad input is refused; the policy is unchanged.
SELECT duroxide.set_version_policy('Versioned', '3.0.0');
SELECT duroxide.set_version_policy('Versioned', '1.0');
SELECT duroxide.set_version_policy('NoSuchOrchestration', NULL);
SELECT duroxide.set_version_policy(NULL, '1.0.0');
SELECT orchestration, version FROM duroxide.version_policies;

-- duroxide_admin only.
CREATE ROLE ver_user;
GRANT duroxide_user TO ver_user;
SET ROLE ver_user;
SELECT duroxide.set_version_policy('Versioned', '1.0.0');
SELECT count(*) AS policies_visible FROM duroxide.version_policies;
RESET ROLE;
DROP ROLE ver_user;

-- An administrator writes the table only through set_version_policy (SECURITY DEFINER), which
-- records the calling role; direct writes would skip its version check and are refused.
CREATE ROLE ver_admin IN ROLE duroxide_admin;
SET ROLE ver_admin;
SELECT duroxide.set_version_policy('Versioned', '2.0.0');
INSERT INTO duroxide.version_policies (orchestration, version, set_by)
VALUES ('HelloWorld', '9.9.9', 'ver_admin');
UPDATE duroxide.version_policies SET version = '9.9.9';
SELECT orchestration, version, set_by::text FROM duroxide.version_policies;
RESET ROLE;
SELECT duroxide.set_version_policy('Versioned', NULL);
DROP ROLE ver_admin;

-- The dispatchers re-read the catalogs only after a committed change bumped the catalog
-- generation (the tables' statement trigger, docs/architecture.md): even a change no function
-- made (the owner's direct UPDATE, set_at untouched) applies to the next start.
UPDATE duroxide.version_policies SET version = '1.0.0' WHERE orchestration = 'Versioned';
SELECT duroxide.start_orchestration('ver-direct', 'Versioned', '');
SELECT status, output, orchestration_version
  FROM duroxide.wait_for_orchestration('ver-direct', '30 s');
UPDATE duroxide.version_policies SET version = NULL WHERE orchestration = 'Versioned';
SELECT duroxide.start_orchestration('ver-direct-reset', 'Versioned', '');
SELECT status, output, orchestration_version
  FROM duroxide.wait_for_orchestration('ver-direct-reset', '30 s');

SELECT duroxide.unregister_plugin('duroxide_sample');
