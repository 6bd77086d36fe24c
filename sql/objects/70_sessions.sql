-- Activity sessions: which activity worker owns each session (docs/user-guide.md, Sessions).
-- A session is pinned to its owner while its lease runs; the owner renews the leases of its
-- busy sessions, idle ones run out. Owners are stable ids (node id, database, worker index);
-- a session whose owner has no live process is claimable at once, and a worker restarted in
-- the owner's slot has its sessions back; locked_by is the process that claimed it. A session
-- belongs to its instance: two instances using one session id share nothing.
REVOKE ALL ON duroxide.session_locks FROM PUBLIC;
GRANT SELECT ON duroxide.session_locks TO duroxide_admin;
REVOKE ALL ON duroxide.open_sessions FROM PUBLIC;
GRANT SELECT ON duroxide.open_sessions TO duroxide_admin;

CREATE OR REPLACE FUNCTION duroxide._session_owner_pid(owner text) RETURNS integer
    LANGUAGE c STRICT VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'duroxide_session_owner_pid';
COMMENT ON FUNCTION duroxide._session_owner_pid(text) IS
    'Internal: the pid of the live activity worker with session owner id "owner", or NULL.';
REVOKE ALL ON FUNCTION duroxide._session_owner_pid(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide._sessions_released(released bigint) RETURNS bigint
    LANGUAGE c STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'duroxide_sessions_released';
COMMENT ON FUNCTION duroxide._sessions_released(bigint) IS
    'Internal: when "released" > 0, tells the activity workers at commit that sessions were '
    'released (owners drop their session state); returns "released".';
REVOKE ALL ON FUNCTION duroxide._sessions_released(bigint) FROM PUBLIC;

-- Explicitly open sessions and pinned sessions (explicit or implicit), of the instances the
-- caller may reach (duroxide.isolate_instances): a role never sees another role's sessions.
-- The view reads a SECURITY DEFINER function that filters before returning rows, so a
-- caller's own functions in a WHERE clause never see the sessions of other roles.
CREATE OR REPLACE FUNCTION duroxide.get_sessions()
    RETURNS TABLE (instance_id text, session_id text, lifecycle text, owner_id text,
                   worker_pid integer, claimed_at timestamptz, locked_until timestamptz,
                   last_activity_at timestamptz, pending_items bigint, session_state text,
                   opened_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT k.instance_id, k.session_id,
               CASE WHEN os.session_id IS NOT NULL THEN 'open' ELSE 'implicit' END AS lifecycle,
               s.owner_id, o.pid AS worker_pid,
               s.claimed_at, s.locked_until, s.last_activity_at,
               (SELECT pg_catalog.count(*) FROM duroxide.worker_queue w
                 WHERE w.instance_id = k.instance_id AND w.session_id = k.session_id)
                   AS pending_items,
               CASE WHEN s.session_id IS NULL THEN 'unclaimed'
                    WHEN o.pid IS NULL THEN 'orphaned'
                    WHEN s.locked_until <= clock_timestamp() THEN 'expired'
                    WHEN s.last_activity_at <= clock_timestamp()
                         - current_setting('duroxide.session_idle_timeout')::interval THEN 'idle'
                    ELSE 'active' END AS session_state,
               os.opened_at
          FROM (SELECT x.instance_id, x.session_id FROM duroxide.open_sessions x
                UNION SELECT y.instance_id, y.session_id FROM duroxide.session_locks y) k
          JOIN duroxide.instances i ON i.instance_id = k.instance_id
          LEFT JOIN duroxide.open_sessions os
                 ON os.instance_id = k.instance_id AND os.session_id = k.session_id
          LEFT JOIN duroxide.session_locks s
                 ON s.instance_id = k.instance_id AND s.session_id = k.session_id
          LEFT JOIN LATERAL (SELECT duroxide._session_owner_pid(s.owner_id) AS pid) o ON true
         WHERE duroxide._may_access(i.owner_role);
    END;
COMMENT ON FUNCTION duroxide.get_sessions() IS
    'Rows of the duroxide.sessions view (sessions of the instances the caller may reach).';
REVOKE ALL ON FUNCTION duroxide.get_sessions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.get_sessions() TO duroxide_admin, duroxide_user;

CREATE OR REPLACE VIEW duroxide.sessions AS SELECT * FROM duroxide.get_sessions();
COMMENT ON VIEW duroxide.sessions IS
    'Activity sessions of the instances the caller may reach: instance, session id, lifecycle '
    '(open: opened by the orchestration; implicit: pinned by use, never opened), owner (stable '
    'worker id) and its pid while alive, lease, last activity, queued activities, lease state '
    '(active, idle: no longer renewed, expired, orphaned: owner gone, unclaimed: open but not '
    'pinned to a worker; expired, orphaned and unclaimed sessions go to any worker).';
REVOKE ALL ON duroxide.sessions FROM PUBLIC;
GRANT SELECT ON duroxide.sessions TO duroxide_admin, duroxide_user;

CREATE OR REPLACE FUNCTION duroxide.release_session(instance text, session_id text) RETURNS boolean
    LANGUAGE sql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH released AS (
            DELETE FROM duroxide.session_locks l
             WHERE l.instance_id = release_session.instance
               AND l.session_id = release_session.session_id RETURNING 1)
        SELECT duroxide._sessions_released((SELECT count(*) FROM released)) > 0;
    END;
COMMENT ON FUNCTION duroxide.release_session(text, text) IS
    'Unpins session "session_id" of instance "instance": its next activity may go to any worker, '
    'and the owner drops its session state (an explicit session stays open). Returns false when '
    'the session is not pinned.';
REVOKE ALL ON FUNCTION duroxide.release_session(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.release_session(text, text) TO duroxide_admin;

CREATE OR REPLACE FUNCTION duroxide.release_session(session_id text) RETURNS boolean
    LANGUAGE sql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH released AS (
            DELETE FROM duroxide.session_locks l
             WHERE l.session_id = release_session.session_id RETURNING 1)
        SELECT duroxide._sessions_released((SELECT count(*) FROM released)) > 0;
    END;
COMMENT ON FUNCTION duroxide.release_session(text) IS
    'Unpins session "session_id" in every instance that uses that id (the 0.1 form; prefer '
    'release_session(instance, session_id)). Returns false when no such session is pinned.';
REVOKE ALL ON FUNCTION duroxide.release_session(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.release_session(text) TO duroxide_admin;

CREATE OR REPLACE FUNCTION duroxide.release_worker_sessions(owner_id text) RETURNS bigint
    LANGUAGE sql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH released AS (
            DELETE FROM duroxide.session_locks l
             WHERE l.owner_id = release_worker_sessions.owner_id RETURNING 1)
        SELECT duroxide._sessions_released((SELECT count(*) FROM released));
    END;
COMMENT ON FUNCTION duroxide.release_worker_sessions(text) IS
    'Unpins every session of a worker (owner_id as in duroxide.sessions); returns how many.';
REVOKE ALL ON FUNCTION duroxide.release_worker_sessions(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.release_worker_sessions(text) TO duroxide_admin;
