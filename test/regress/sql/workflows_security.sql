-- SQL-authored workflows: who may change and who runs which code (docs/workflows.md, "Who runs
-- what"). A name's owner alone adds versions and pins one; anyone else (an admin, a grantee)
-- starts it only at a version it names, so code the owner writes later never runs with another
-- role's privileges unnamed; workflow_instances rows belong to the instance that was started.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
DROP ROLE IF EXISTS wfs_alice, wfs_bob, wfs_admin;  -- left by an earlier run on this server
RESET client_min_messages;
\set SHOW_CONTEXT never
CREATE ROLE wfs_alice LOGIN IN ROLE duroxide_user;
CREATE ROLE wfs_bob LOGIN IN ROLE duroxide_user;
CREATE ROLE wfs_admin LOGIN IN ROLE duroxide_admin;
CREATE SCHEMA wfs;
GRANT USAGE ON SCHEMA wfs TO wfs_alice, wfs_bob, wfs_admin;
CREATE TABLE wfs.admin_only (note text);
INSERT INTO wfs.admin_only VALUES ('admin secret');
GRANT SELECT ON wfs.admin_only TO wfs_admin;
CREATE TABLE wfs.loot (note text);
GRANT SELECT, INSERT ON wfs.loot TO wfs_alice, wfs_bob, wfs_admin;
-- 'ok' or 'SQLSTATE: message (HINT)'
CREATE FUNCTION wfs.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; hint text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || message || coalesce(' (' || nullif(hint, '') || ')', '');
END
$$;
GRANT EXECUTE ON FUNCTION wfs.try(text) TO wfs_alice, wfs_bob, wfs_admin;

-- Alice owns 'nightly'; an admin can neither add a version to it nor pin one.
SET ROLE wfs_alice;
SELECT duroxide.define_workflow('nightly', '{"kind":"return","value":"harmless"}');
SET ROLE wfs_admin;
SELECT wfs.try($$SELECT duroxide.define_workflow('nightly', '{"kind":"return","value":"admin"}')$$);
SELECT wfs.try($$SELECT duroxide.set_workflow_version_policy('nightly', '1.0.0')$$);
RESET ROLE;
SELECT name, version, owner_role::regrole AS owner, defined_by::regrole AS defined_by
  FROM duroxide.workflow_definitions WHERE name = 'nightly' ORDER BY version;
-- Alice's next version reads what only its starter can; the admin still sees the workflow but
-- starts it only at a version it names: the newest is alice's code, not the admin's choice.
SET ROLE wfs_alice;
SELECT duroxide.define_workflow('nightly', '{"kind":"sql","query":"INSERT INTO wfs.loot SELECT note FROM wfs.admin_only RETURNING note"}');
SET ROLE wfs_admin;
SELECT name, version, owner, latest FROM duroxide.workflows WHERE name = 'nightly' ORDER BY version;
SELECT wfs.try($$SELECT duroxide.start_workflow('wfs-admin-nightly', 'nightly')$$);
SELECT duroxide.start_workflow('wfs-admin-nightly', 'nightly', version => '1.0.0');
SELECT status, output FROM duroxide.wait_for_orchestration('wfs-admin-nightly', '30 s');
-- A sub_workflow of a workflow owned by another role than the starter must name its version.
SELECT duroxide.start_workflow_definition('wfs-admin-sub', '{"kind":"sub_workflow","workflow":"nightly"}');
SELECT status, error->'Application'->>'message' AS error
  FROM duroxide.wait_for_orchestration('wfs-admin-sub', '30 s');
SELECT duroxide.start_workflow_definition('wfs-admin-sub-named', '{"kind":"sub_workflow","workflow":"nightly","version":"1.0.0"}');
SELECT status, output FROM duroxide.wait_for_orchestration('wfs-admin-sub-named', '30 s');
RESET ROLE;
SELECT count(*) AS looted FROM wfs.loot;
-- A grantee, likewise, names the version; the owner's own starts take the newest (or pinned).
SET ROLE wfs_alice;
SELECT duroxide.grant_workflow('nightly', 'wfs_bob');
SET ROLE wfs_bob;
SELECT wfs.try($$SELECT duroxide.start_workflow('wfs-bob-nightly', 'nightly')$$);
SELECT duroxide.start_workflow('wfs-bob-nightly', 'nightly', version => '1.0.0');
SELECT status, output FROM duroxide.wait_for_orchestration('wfs-bob-nightly', '30 s');
SET ROLE wfs_alice;
SELECT duroxide.set_workflow_version_policy('nightly', '1.0.0');
SELECT duroxide.start_workflow('wfs-alice-nightly', 'nightly');
SELECT status, output FROM duroxide.wait_for_orchestration('wfs-alice-nightly', '30 s');
SELECT duroxide.start_workflow_definition('wfs-alice-sub', '{"kind":"sub_workflow","workflow":"nightly"}');
SELECT status, output FROM duroxide.wait_for_orchestration('wfs-alice-sub', '30 s');
RESET ROLE;

-- Starting an existing instance starts nothing: NULL, and its labels stay.
SET ROLE wfs_alice;
SELECT duroxide.start_workflow('wfs-ord-1', 'nightly', labels => '{"who":"alice"}');
SELECT duroxide.start_workflow('wfs-ord-1', 'nightly', labels => '{"who":"alice again"}') IS NULL AS nothing_started;
SELECT status FROM duroxide.wait_for_orchestration('wfs-ord-1', '30 s');
SELECT instance_id, workflow, version, labels FROM duroxide.list_workflow_instances(labels => '{}') WHERE instance_id = 'wfs-ord-1';
RESET ROLE;
-- A deleted instance takes its workflow row along: the next instance with its id is bob's own.
SELECT instances FROM duroxide.delete_instance('wfs-ord-1');
SELECT count(*) AS stale FROM duroxide.workflow_instances WHERE instance_id = 'wfs-ord-1';
SET ROLE wfs_bob;
SELECT duroxide.start_workflow_definition('wfs-ord-1', '{"kind":"return","value":"bob"}', NULL, '{"who":"bob"}');
SELECT status, output FROM duroxide.wait_for_orchestration('wfs-ord-1', '30 s');
SELECT instance_id, workflow, version, labels FROM duroxide.list_workflow_instances() WHERE instance_id = 'wfs-ord-1';
RESET ROLE;
-- Deleting a tree deletes its children's rows too.
SELECT instance_id, name, version FROM duroxide.workflow_instances
 WHERE instance_id LIKE 'wfs-alice-sub%' ORDER BY instance_id;
SELECT instances FROM duroxide.delete_instance('wfs-alice-sub');
SELECT count(*) AS left_over FROM duroxide.workflow_instances WHERE instance_id LIKE 'wfs-alice-sub%';

DROP SCHEMA wfs CASCADE;
