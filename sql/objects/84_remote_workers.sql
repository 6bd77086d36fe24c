-- Remote activity workers (duroxide-worker; docs/operations.md "Remote activity workers",
-- src/sql_api/remote_workers.cpp). A worker connection attaches as a lease owner tied to its
-- backend, claims tagged activities with the in-server workers' fetch, renews or checks its
-- leases, and records each completion in its own transaction (after the activity's ctx.sql()
-- statements, which commit with it). Only duroxide_worker (and the extension owner) may call
-- them; they run as the extension owner with a pinned search_path.
CREATE OR REPLACE FUNCTION duroxide.worker_attach(worker_id text)
    RETURNS TABLE (lease_owner bigint, owner_id text, max_attempts integer,
                   unregistered_backoff_ms integer, cancellation_grace_ms integer,
                   max_payload_bytes bigint)
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_worker_attach';
COMMENT ON FUNCTION duroxide.worker_attach(text) IS
    'Remote workers: attaches this connection as worker worker_id (its session owner id is '
    'remote:<worker_id>); its leases are free as soon as the connection ends. Returns the '
    'server settings the worker applies.';

CREATE OR REPLACE FUNCTION duroxide.worker_detach() RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_worker_detach';
COMMENT ON FUNCTION duroxide.worker_detach() IS
    'Remote workers: a graceful stop of this connection''s worker: releases its sessions '
    '(returns how many) and its lease owner id.';

CREATE OR REPLACE FUNCTION duroxide.worker_claim(tag_filter text, max_items integer DEFAULT 1,
                                                 lock_timeout_ms integer DEFAULT 30000,
                                                 max_sessions integer DEFAULT 10)
    RETURNS TABLE (id bigint, lock_token text, attempt_count integer, work_item text)
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_worker_claim';
COMMENT ON FUNCTION duroxide.worker_claim(text, integer, integer, integer) IS
    'Remote workers: leases up to max_items visible activities whose tag the filter '
    '(''tags:a,b'') names, oldest first, with session affinity; each lease counts an attempt.';

CREATE OR REPLACE FUNCTION duroxide.worker_renew(id bigint, lock_token text,
                                                 lock_timeout_ms integer DEFAULT 30000,
                                                 hold_session boolean DEFAULT false)
    RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_worker_renew';
COMMENT ON FUNCTION duroxide.worker_renew(bigint, text, integer, boolean) IS
    'Remote workers: extends a lease (and its session''s; to the lease''s end with '
    'hold_session); false when it is no longer held (cancelled, expired, taken over).';

CREATE OR REPLACE FUNCTION duroxide.worker_holds(id bigint, lock_token text) RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_worker_holds';
COMMENT ON FUNCTION duroxide.worker_holds(bigint, text) IS
    'Remote workers: whether a lease is still held and unexpired (reads only: for use inside '
    'the activity''s transaction).';

CREATE OR REPLACE FUNCTION duroxide.worker_renew_sessions()
    RETURNS TABLE (instance_id text, session_id text)
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_worker_renew_sessions';
COMMENT ON FUNCTION duroxide.worker_renew_sessions() IS
    'Remote workers: renews this worker''s sessions that are not idle and returns those it owns.';

CREATE OR REPLACE FUNCTION duroxide.worker_complete(id bigint, lock_token text, completion text)
    RETURNS void
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_worker_complete';
COMMENT ON FUNCTION duroxide.worker_complete(bigint, text, text) IS
    'Remote workers: records the activity''s completion (its ActivityCompleted or ActivityFailed '
    'work item) in the caller''s transaction; raises when the lease is no longer held.';

CREATE OR REPLACE FUNCTION duroxide.worker_abandon(id bigint, lock_token text,
                                                   delay_ms bigint DEFAULT 0,
                                                   ignore_attempt boolean DEFAULT false)
    RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'duroxide_worker_abandon';
COMMENT ON FUNCTION duroxide.worker_abandon(bigint, text, bigint, boolean) IS
    'Remote workers: gives a lease back; the activity is visible again after delay_ms '
    '(ignore_attempt: this attempt does not count). False when it was no longer held.';

REVOKE ALL ON FUNCTION duroxide.worker_attach(text), duroxide.worker_detach(),
    duroxide.worker_claim(text, integer, integer, integer),
    duroxide.worker_renew(bigint, text, integer, boolean), duroxide.worker_holds(bigint, text),
    duroxide.worker_renew_sessions(), duroxide.worker_complete(bigint, text, text),
    duroxide.worker_abandon(bigint, text, bigint, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.worker_attach(text), duroxide.worker_detach(),
    duroxide.worker_claim(text, integer, integer, integer),
    duroxide.worker_renew(bigint, text, integer, boolean), duroxide.worker_holds(bigint, text),
    duroxide.worker_renew_sessions(), duroxide.worker_complete(bigint, text, text),
    duroxide.worker_abandon(bigint, text, bigint, boolean) TO duroxide_worker;
GRANT USAGE ON SCHEMA duroxide TO duroxide_worker;
