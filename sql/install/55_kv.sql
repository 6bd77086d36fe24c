-- The durable key-value store of orchestrations (src/store/kv_store.cpp) and its client API.
-- kv_store holds the values as the last finished execution of an instance left them: the
-- snapshot an execution starts from. kv_delta holds the current execution's changes, written
-- by every turn (value NULL: cleared) and merged into kv_store when the execution completes,
-- fails or continues as new. Clients read the live view: kv_delta over kv_store. Deleting an
-- instance deletes its keys (foreign keys); pruning executions leaves them alone.

CREATE TABLE duroxide.kv_store (
    instance_id         text NOT NULL REFERENCES duroxide.instances ON DELETE CASCADE,
    key                 text NOT NULL,
    value               text NOT NULL,
    last_updated_at_ms  bigint NOT NULL DEFAULT 0,   -- Unix ms of the write (the turn's clock)
    PRIMARY KEY (instance_id, key)
);

CREATE TABLE duroxide.kv_delta (
    instance_id         text NOT NULL REFERENCES duroxide.instances ON DELETE CASCADE,
    key                 text NOT NULL,
    value               text,                        -- NULL: cleared (a tombstone)
    last_updated_at_ms  bigint NOT NULL,
    PRIMARY KEY (instance_id, key)
);
