-- Completion notifications (sql/objects/81_notifications.sql): the secret from which the
-- per-role channel names are derived. One row; only the extension owner reads it (no grants).
-- Not saved by pg_dump: a restored database gets a new secret, and with it new channel names.
CREATE TABLE duroxide.notification_secret (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    secret     bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
INSERT INTO duroxide.notification_secret (secret)
VALUES (pg_catalog.decode(pg_catalog.replace(pg_catalog.gen_random_uuid()::text
                                             || pg_catalog.gen_random_uuid()::text, '-', ''),
                          'hex'));
