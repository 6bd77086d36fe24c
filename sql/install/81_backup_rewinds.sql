-- Backups of the rewind record (sql/install/66_rewind_cancel.sql): saved by pg_dump with the
-- instances they belong to. After 80_backup.sql, so that the extension's list of dumped tables
-- has the same order in a fresh install and after an upgrade.
SELECT pg_catalog.pg_extension_config_dump('duroxide.rewinds', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.rewinds_rewind_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('duroxide.rewound_events', '');
