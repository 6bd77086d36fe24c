-- The durable store (src/store): instances, executions, append-only history, the two queues
-- and the instance locks. Timestamps come from the database clock. Only the extension owner
-- touches these tables; users go through the SQL API.
--
-- Leases: a fetch marks what it takes with an unguessable lock_token, a locked_until and the
-- owner id of the worker process that holds it (locked_by). A lease is free again when it
-- expires or when its owner is no longer a live duroxide worker (duroxide._lock_holder_alive),
-- so the work of a worker that died is fetchable at once.
--
-- The queues' lease columns are not indexed and the tables leave room in each page, so taking
-- a lease is a HOT update: no new index entries for the fetches to step over. Half of each
-- queue page is left free: every queue row is leased (updated) once, and rows arrive in
-- bursts that fill whole pages, so a page needs room for a second version of each of its rows
-- (with 30% free, about 40% of the lease updates found no room and wrote a new version on
-- another page, with an entry in each index: docs/performance.md, issue 21 second part).
--
-- Storage parameters. The queues and the instance locks churn their whole content thousands
-- of times a second: every row is inserted, leased and deleted within milliseconds. The
-- server's default autovacuum settings (vacuum at 20% dead rows, throttled by the cost delay)
-- leave them unvacuumed for a long time, and each fetch steps over the dead index entries
-- ahead of the live rows: throughput falls as they pile up (docs/operations.md, Autovacuum).
-- So these tables are vacuumed whenever autovacuum visits the database and 1000 rows have
-- died or been inserted since the last vacuum, without the cost delay (they are small: a
-- vacuum of one takes milliseconds). instances and executions are updated once or twice per
-- execution (status, custom status): the room left in each page keeps that a HOT update.
-- An instance_locks row lives as long as its instance runs: a fetch takes it and the ack
-- releases it in place (lock_token NULL, locked_until -infinity), so the room left in its
-- pages keeps both a HOT update; the ack of the turn that completes or fails the instance
-- deletes it.

CREATE TABLE duroxide.instances (
    instance_id            text PRIMARY KEY,
    orchestration_name     text NOT NULL,
    orchestration_version  text,
    current_execution_id   bigint NOT NULL DEFAULT 1,
    parent_instance_id     text,
    owner_role             oid,    -- the role that started it (children inherit it)
    custom_status          text,
    custom_status_version  integer NOT NULL DEFAULT 0,
    created_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at             timestamptz NOT NULL DEFAULT clock_timestamp()
) WITH (fillfactor = 90);
CREATE INDEX ON duroxide.instances (parent_instance_id) WHERE parent_instance_id IS NOT NULL;

CREATE TABLE duroxide.executions (
    instance_id   text NOT NULL,
    execution_id  bigint NOT NULL,
    status        text NOT NULL DEFAULT 'Running'
                  CHECK (status IN ('Running', 'Completed', 'Failed', 'ContinuedAsNew')),
    output        text,
    error         text,   -- ErrorDetails JSON of a failed execution
    started_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    completed_at  timestamptz,
    -- The duroxide library that started it (major * 1000000 + minor * 1000 + patch); NULL for
    -- executions recorded by 0.1.0. A dispatcher does not run an execution of a newer library.
    duroxide_version_num integer,
    PRIMARY KEY (instance_id, execution_id)
) WITH (fillfactor = 90);

CREATE TABLE duroxide.history (
    instance_id   text NOT NULL,
    execution_id  bigint NOT NULL,
    event_id      bigint NOT NULL,
    event_type    text NOT NULL,
    event_data    text NOT NULL,   -- the Event as duroxide JSON
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (instance_id, execution_id, event_id)
);

-- Orchestrator queue: starts, completions, timers (visible_at = fire time), events, cancels.
CREATE TABLE duroxide.orchestrator_queue (
    id             bigserial,
    instance_id    text NOT NULL,
    work_item      text NOT NULL,
    visible_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- the attempts that ended without an ack (abandoned, or their holder crashed); a fetch
    -- in progress counts one more (its claim is in instance_locks.claimed, not here)
    attempt_count  integer NOT NULL DEFAULT 0 CHECK (attempt_count >= 0),
    lock_token     text,   -- not written since 0.2.0 (the claim is instance_locks.claimed)
    started_by     oid,    -- for a start: the role that becomes the instance's owner
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- id alone is unique (a sequence), but nothing looks a message up by id alone: the key
    -- serves the claims and the ack's delete (an instance's messages, in queue order), so
    -- each message has two index entries (this and orchestrator_queue_visible), not three.
    PRIMARY KEY (instance_id, id)
) WITH (fillfactor = 50,
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0);
CREATE INDEX orchestrator_queue_visible ON duroxide.orchestrator_queue (visible_at, id);

-- The dispatchers' instance locks: one row per instance a dispatcher has taken, held while
-- lock_token is set and locked_until is ahead (and its holder lives), free once released
-- (lock_token NULL, locked_until -infinity: the next fetch updates it in place). claimed: the
-- ids of the messages the holder's fetch took (the messages themselves are not written; the
-- ack deletes exactly these). Left as it was by a release; meaningful while lock_token is set.
CREATE TABLE duroxide.instance_locks (
    instance_id   text PRIMARY KEY,
    lock_token    text,
    locked_until  timestamptz NOT NULL,
    locked_by     bigint NOT NULL,
    locked_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    claimed       bigint[]
) WITH (fillfactor = 70,
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0);

-- Worker queue: activities to run, with their identity for lock stealing (cancellation).
CREATE TABLE duroxide.worker_queue (
    id             bigserial PRIMARY KEY,
    work_item      text NOT NULL,
    instance_id    text NOT NULL,
    execution_id   bigint NOT NULL,
    activity_id    bigint NOT NULL,
    session_id     text,
    tag            text,
    visible_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    attempt_count  integer NOT NULL DEFAULT 0 CHECK (attempt_count >= 0),
    lock_token     text,
    locked_until   timestamptz,
    locked_by      bigint,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
) WITH (fillfactor = 50,
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0);
CREATE INDEX worker_queue_visible ON duroxide.worker_queue (visible_at, id);

CREATE INDEX worker_queue_activity ON duroxide.worker_queue (instance_id, execution_id, activity_id);

-- Fetches of workers with a tag filter (tagged activities are few: untagged rows are left out),
-- in the fetch's (visible_at, id) order.
CREATE INDEX worker_queue_tag ON duroxide.worker_queue (tag, visible_at, id) WHERE tag IS NOT NULL;
