-- Recurring schedules (duroxide.create_schedule, sql/objects/82_schedules.sql): one row per
-- schedule, owned by the role that created it; the dispatchers fire them
-- (runtime/services/schedule_runner). Saved by pg_dump, after the other dumped tables.
CREATE TABLE duroxide.schedules (
    name              text PRIMARY KEY,
    owner_role        oid NOT NULL,
    cron              text NOT NULL,
    time_zone         text,
    kind              text NOT NULL CHECK (kind IN ('orchestration', 'workflow')),
    orchestration     text NOT NULL,
    version           text,
    input             text NOT NULL DEFAULT '',
    overlap           text NOT NULL DEFAULT 'skip'
                      CHECK (overlap IN ('skip', 'buffer_one', 'allow_all')),
    catch_up          text NOT NULL DEFAULT 'skip_missed'
                      CHECK (catch_up IN ('skip_missed', 'run_once', 'backfill_all', 'bounded')),
    catch_up_max      integer NOT NULL DEFAULT 1 CHECK (catch_up_max BETWEEN 1 AND 100),
    paused            boolean NOT NULL DEFAULT false,
    next_fire_at      timestamptz,
    pending_fire_at   timestamptz,
    last_fire_at      timestamptz,
    last_instance_id  text,
    fires             bigint NOT NULL DEFAULT 0,
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX schedules_due ON duroxide.schedules (next_fire_at) WHERE NOT paused;
SELECT pg_catalog.pg_extension_config_dump('duroxide.schedules', '');
