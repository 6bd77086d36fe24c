-- Activity sessions: which activity worker owns each session (docs/user-guide.md, Sessions).
-- A session is pinned to its owner while its lease runs; the owner renews the leases of its
-- busy sessions, idle ones run out. Owners are stable ids (node id, database, worker index);
-- a session whose owner has no live process is claimable at once, and a worker restarted in
-- the owner's slot has its sessions back; locked_by is the process that claimed it. A session
-- belongs to its instance: two instances using one session id share nothing.
CREATE TABLE duroxide.session_locks (
    instance_id       text NOT NULL,
    session_id        text NOT NULL,
    owner_id          text NOT NULL,
    locked_by         bigint NOT NULL,
    locked_until      timestamptz NOT NULL,
    last_activity_at  timestamptz NOT NULL,
    claimed_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (instance_id, session_id)
) WITH (fillfactor = 70,
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0);
CREATE INDEX session_locks_owner ON duroxide.session_locks (owner_id);
-- Session activities only: orphan cleanup and the pending counts look items up by session.
CREATE INDEX worker_queue_session ON duroxide.worker_queue (instance_id, session_id)
    WHERE session_id IS NOT NULL;

-- Explicit sessions (OrchestrationContext::open_session): the sessions each instance has open,
-- written by the ack of the turn that opened or closed them; an instance that completes,
-- fails or is cancelled has none (continue-as-new keeps them). Durable state, unlike leases.
CREATE TABLE duroxide.open_sessions (
    instance_id  text NOT NULL REFERENCES duroxide.instances (instance_id) ON DELETE CASCADE,
    session_id   text NOT NULL,
    opened_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (instance_id, session_id)
);
