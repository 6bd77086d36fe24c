-- Backups: pg_dump saves the durable state with the database (instances, histories, queues,
-- registrations); leases (instance_locks, session_locks) are not state and are not saved.
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
