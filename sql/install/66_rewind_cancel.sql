-- Rewind a failed instance, and cancel with a grace period (docs/architecture.md "Rewind";
-- docs/plugin-guide.md "Graceful cancellation"). The rewind's rule lives in the core
-- (core::plan_rewind, behind duroxide._rewind_plan); the statements here apply it.

-- Every rewind, and the events it took out of the history: history stays a record of what
-- happened, only split in two places.
CREATE TABLE duroxide.rewinds (
    rewind_id       bigserial PRIMARY KEY,
    instance_id     text NOT NULL REFERENCES duroxide.instances ON DELETE CASCADE,
    execution_id    bigint NOT NULL,
    reason          text NOT NULL,
    rewound_by      oid NOT NULL,
    rewound_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    error           text,     -- the ErrorDetails JSON the execution had failed with
    parent_rewind_id bigint REFERENCES duroxide.rewinds ON DELETE CASCADE  -- a child's
);
CREATE INDEX ON duroxide.rewinds (instance_id);
CREATE INDEX ON duroxide.rewinds (parent_rewind_id) WHERE parent_rewind_id IS NOT NULL;
CREATE TABLE duroxide.rewound_events (
    rewind_id   bigint NOT NULL REFERENCES duroxide.rewinds ON DELETE CASCADE,
    event_id    bigint NOT NULL,
    event_type  text NOT NULL,
    event_data  text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (rewind_id, event_id)
);
