-- The durable store (src/store): instances, executions, append-only history and the two
-- queues. Timestamps come from the database clock. Only the extension owner touches these
-- tables; users go through the SQL API.

CREATE TABLE duroxide.instances (
    instance_id            text PRIMARY KEY,
    orchestration_name     text NOT NULL,
    orchestration_version  text,
    current_execution_id   bigint NOT NULL DEFAULT 1,
    parent_instance_id     text,
    custom_status          text,
    custom_status_version  integer NOT NULL DEFAULT 0,
    created_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at             timestamptz NOT NULL DEFAULT clock_timestamp()
);
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
    PRIMARY KEY (instance_id, execution_id)
);

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
    id             bigserial PRIMARY KEY,
    instance_id    text NOT NULL,
    work_item      text NOT NULL,
    visible_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    attempt_count  integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX orchestrator_queue_visible ON duroxide.orchestrator_queue (visible_at, id);
CREATE INDEX orchestrator_queue_instance ON duroxide.orchestrator_queue (instance_id, id);

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
    attempt_count  integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX worker_queue_visible ON duroxide.worker_queue (visible_at, id);
CREATE INDEX worker_queue_activity ON duroxide.worker_queue (instance_id, execution_id, activity_id);

REVOKE ALL ON duroxide.instances, duroxide.executions, duroxide.history,
              duroxide.orchestrator_queue, duroxide.worker_queue FROM PUBLIC;
GRANT SELECT ON duroxide.instances, duroxide.executions, duroxide.history,
                duroxide.orchestrator_queue, duroxide.worker_queue TO duroxide_admin;
