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
-- a lease is a HOT update: no new index entries for the fetches to step over.
-- Whether `owner` is the owner id of a live duroxide worker of this database.
CREATE OR REPLACE FUNCTION duroxide._lock_holder_alive(owner bigint) RETURNS boolean
    LANGUAGE c STRICT VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'duroxide_lock_holder_alive';
COMMENT ON FUNCTION duroxide._lock_holder_alive(bigint) IS
    'Internal: whether a lease owner id belongs to a live duroxide worker process.';

-- A history row's event_data holds the event without what the row's columns hold (its stored
-- form, docs/architecture.md "History rows"); every SQL reader that needs the whole event reads
-- it through this function. Rows of 0.1.0 (the full form) come back as they are.
CREATE OR REPLACE FUNCTION duroxide._event_json(instance_id text, execution_id bigint,
                                                event_id bigint, event_type text, event_data text)
    RETURNS text LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'duroxide_event_json';
COMMENT ON FUNCTION duroxide._event_json(text, bigint, bigint, text, text) IS
    'Internal: the full JSON of a history event from its row (columns and stored event_data).';
REVOKE ALL ON FUNCTION duroxide._event_json(text, bigint, bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide._event_json(text, bigint, bigint, text, text)
    TO duroxide_admin;

REVOKE ALL ON duroxide.instances, duroxide.executions, duroxide.history,
              duroxide.orchestrator_queue, duroxide.worker_queue, duroxide.instance_locks
    FROM PUBLIC;
REVOKE ALL ON FUNCTION duroxide._lock_holder_alive(bigint) FROM PUBLIC;
GRANT SELECT ON duroxide.instances, duroxide.executions, duroxide.history,
                duroxide.orchestrator_queue, duroxide.worker_queue, duroxide.instance_locks
    TO duroxide_admin;
