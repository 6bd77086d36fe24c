-- The explicitly open sessions of each instance (durable state, unlike the session leases) are
-- saved by pg_dump. Last of the dumped tables, as the 0.1.0 -> 0.2.0 update registers it last:
-- pg_dump's list of an extension's tables keeps the order they were registered in.
SELECT pg_catalog.pg_extension_config_dump('duroxide.open_sessions', '');
