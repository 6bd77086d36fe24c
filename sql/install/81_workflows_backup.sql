-- Backups of SQL-authored workflows (75_workflows.sql): pg_dump saves the definitions, grants
-- and instance versions with the database. (A piece after 80_backup.sql, so that the list of
-- dumped tables is in the same order in a fresh install and after the upgrade.)
SELECT pg_catalog.pg_extension_config_dump('duroxide.workflow_definitions', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.workflow_grants', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.workflow_instances', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.workflow_version_policies', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.variables', '');
