-- Provider validation: activity sessions (reference §4.9 and §5.1 "sessions": routing, claim,
-- same-owner reuse, blocking, expiry and dead-owner takeover, capacity, batched renewal, idle
-- sessions not renewed, last activity on ack, cleanup). Owners: -1 "owner-a" and -2
-- "owner-b" are two live activity workers with stable session owner ids.
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/include/store_env.sql
\set ECHO all
SELECT duroxide_internal.probe_attach(-1, 'owner-a'), duroxide_internal.probe_attach(-2, 'owner-b');
CREATE FUNCTION pg_temp.sessions() RETURNS TABLE (session_id text, owner_id text, locked_by bigint,
    live boolean, pending bigint) LANGUAGE sql AS $$
    SELECT s.session_id, s.owner_id, s.locked_by, s.locked_until > clock_timestamp(),
           (SELECT count(*) FROM duroxide.worker_queue w WHERE w.session_id = s.session_id)
      FROM duroxide.session_locks s ORDER BY 1 $$;

-- == Routing and claims ==
-- [sessions 1] A worker without a session configuration takes no session activity, only plain ones.
SELECT pv.reset();
SELECT pv.create_instance('r1', activities => 1, session => 'S1');
SELECT pv.create_instance('r1-plain', activities => 1);
SELECT item, session_id FROM pv.fetch_work(-1);
SELECT count(*) AS more FROM pv.fetch_work(-1);
-- [sessions 2] A session worker claims the session with its first activity.
SELECT item, session_id, session_continued FROM pv.fetch_work(-1, session_owner => 'owner-a');
SELECT * FROM pg_temp.sessions();
-- [sessions 3] The session's next activity goes to the same owner (continued), ...
SELECT pv.reset();
SELECT pv.create_instance('r3', activities => 3, session => 'S3');
SELECT item, session_continued FROM pv.fetch_work(-1, session_owner => 'owner-a');
SELECT item, session_continued FROM pv.fetch_work(-1, session_owner => 'owner-a');
-- [sessions 4] ... and never to another live owner while the session is pinned.
SELECT count(*) AS fetched_by_owner_b FROM pv.fetch_work(-2, session_owner => 'owner-b');
-- [sessions 5] Different sessions go to different owners.
SELECT pv.create_instance('r5', activities => 1, session => 'S5');
SELECT item, session_id FROM pv.fetch_work(-2, session_owner => 'owner-b');
SELECT * FROM pg_temp.sessions();
-- [sessions 6] Plain activities go to any worker, session owner or not.
SELECT pv.create_instance('r6', activities => 1);
SELECT item FROM pv.fetch_work(-2, session_owner => 'owner-b');

-- == Takeover ==
-- [sessions 7] After its lease expires, another owner takes the session over.
SELECT pv.reset();
SELECT pv.create_instance('t7', activities => 2, session => 'S7');
SELECT item FROM pv.fetch_work(-1, session_owner => 'owner-a', session_lock_ms => 100);
SELECT pv.ack_work('t7#2', owner => -1, session_owner => 'owner-a', session_lock_ms => 100);
SELECT pg_sleep(0.3);
SELECT item, session_continued FROM pv.fetch_work(-2, session_owner => 'owner-b');
SELECT * FROM pg_temp.sessions();
-- [sessions 8] The session of an owner that died is claimable at once, before its lease ends.
SELECT pv.reset();
SELECT duroxide_internal.probe_attach(-3, 'owner-c');
SELECT pv.create_instance('t8', activities => 2, session => 'S8');
SELECT item FROM pv.fetch_work(-3, session_owner => 'owner-c');
SELECT pv.ack_work('t8#2', owner => -3, session_owner => 'owner-c');
SELECT count(*) AS fetched_while_owner_alive FROM pv.fetch_work(-2, session_owner => 'owner-b');
SELECT duroxide_internal.probe_detach(-3) AS died;
SELECT item FROM pv.fetch_work(-2, session_owner => 'owner-b');
SELECT * FROM pg_temp.sessions();
-- [sessions 9] A restarted worker with the same owner id (a new process) has its sessions back.
SELECT pv.reset();
SELECT duroxide_internal.probe_attach(-3, 'owner-c');
SELECT pv.create_instance('t9', activities => 2, session => 'S9');
SELECT item FROM pv.fetch_work(-3, session_owner => 'owner-c');
SELECT pv.ack_work('t9#2', owner => -3, session_owner => 'owner-c');
SELECT duroxide_internal.probe_detach(-3) AS died, duroxide_internal.probe_attach(-4, 'owner-c') AS restarted;
SELECT item, session_continued FROM pv.fetch_work(-4, session_owner => 'owner-c');
SELECT * FROM pg_temp.sessions();
SELECT duroxide_internal.probe_detach(-4);

-- == Capacity ==
-- [sessions 10] At max_sessions a worker claims no new session, but still runs plain
-- activities and those of the sessions it owns.
SELECT pv.reset();
SELECT pv.create_instance('c10', activities => 2, session => 'C1');
SELECT pv.create_instance('c10-b', activities => 1, session => 'C2');
SELECT pv.create_instance('c10-plain', activities => 1);
SELECT item FROM pv.fetch_work(-1, session_owner => 'owner-a', max_sessions => 1);
SELECT item FROM pv.fetch_work(-1, session_owner => 'owner-a', max_sessions => 1);
SELECT item FROM pv.fetch_work(-1, session_owner => 'owner-a', max_sessions => 1);
SELECT count(*) AS more FROM pv.fetch_work(-1, session_owner => 'owner-a', max_sessions => 1);
SELECT item FROM pv.fetch_work(-1, session_owner => 'owner-a', max_sessions => 2);
-- [sessions 11] Several activities of one session count as one session.
SELECT count(*) AS sessions_of_owner_a FROM duroxide.session_locks WHERE owner_id = 'owner-a';

-- == Renewal ==
-- [sessions 12] One renewal extends every busy session of the owner and returns them; an
-- unknown owner renews nothing.
SELECT pv.reset();
SELECT pv.create_instance('n12', activities => 1, session => 'N1');
SELECT pv.create_instance('n12-b', activities => 1, session => 'N2');
SELECT item FROM pv.fetch_work(-1, session_owner => 'owner-a', session_lock_ms => 1000);
SELECT item FROM pv.fetch_work(-1, session_owner => 'owner-a', session_lock_ms => 1000);
SELECT duroxide_internal.store_renew_sessions(-1, 'owner-a', 30000, 60000) AS renewed ORDER BY 1;
SELECT pg_sleep(1.5);
SELECT * FROM pg_temp.sessions();
SELECT count(*) AS renewed FROM duroxide_internal.store_renew_sessions(-2, 'owner-nobody', 30000, 60000);
-- [sessions 13] Idle sessions (no activity within the idle timeout) are not renewed and run out.
SELECT pv.reset();
SELECT pv.create_instance('n13', activities => 1, session => 'I1');
SELECT item FROM pv.fetch_work(-1, session_owner => 'owner-a', session_lock_ms => 1000);
SELECT pv.ack_work('n13#2', owner => -1, session_owner => 'owner-a', session_lock_ms => 1000);
SELECT pg_sleep(0.3);
SELECT count(*) AS still_owned FROM duroxide_internal.store_renew_sessions(-1, 'owner-a', 1000, 100);
SELECT pg_sleep(1.2);
SELECT * FROM pg_temp.sessions();
-- [sessions 14] A renewal does not touch an expired session: it is no longer the owner's.
SELECT count(*) AS renewed_expired FROM duroxide_internal.store_renew_sessions(-1, 'owner-a', 30000, 60000);
-- [sessions 15] The ack of a session activity records activity: the session is renewed again.
SELECT pv.reset();
SELECT pv.create_instance('n15', activities => 2, session => 'A1');
SELECT item FROM pv.fetch_work(-1, session_owner => 'owner-a');
UPDATE duroxide.session_locks SET last_activity_at = clock_timestamp() - interval '1 hour';
SELECT pv.ack_work('n15#2', owner => -1, session_owner => 'owner-a');
SELECT last_activity_at > clock_timestamp() - interval '1 minute' AS activity_recorded FROM duroxide.session_locks;
-- [sessions 16] Another owner's ack of a session activity does not count as the owner's activity.
UPDATE duroxide.session_locks SET last_activity_at = clock_timestamp() - interval '1 hour';
SELECT item FROM pv.fetch_work(-1, session_owner => 'owner-a');
SELECT pv.ack_work('n15#3', owner => -2, session_owner => 'owner-b');
SELECT last_activity_at > clock_timestamp() - interval '1 minute' AS activity_recorded FROM duroxide.session_locks;

-- == Cleanup ==
-- [sessions 17] Cleanup deletes expired sessions without queued activities, keeps expired
-- ones with pending work and live ones.
SELECT pv.reset();
SELECT pv.create_instance('x17', activities => 1, session => 'E-idle');
SELECT pv.create_instance('x17-b', activities => 2, session => 'E-pending');
SELECT pv.create_instance('x17-c', activities => 1, session => 'L-live');
SELECT item FROM pv.fetch_work(-1, session_owner => 'owner-a', session_lock_ms => 100);
SELECT pv.ack_work('x17#2', owner => -1, session_owner => 'owner-a', session_lock_ms => 100);
SELECT item FROM pv.fetch_work(-1, session_owner => 'owner-a', session_lock_ms => 100);
SELECT item FROM pv.fetch_work(-2, session_owner => 'owner-b');
SELECT pv.ack_work('x17-c#2', owner => -2, session_owner => 'owner-b');
SELECT pg_sleep(0.3);
SELECT duroxide_internal.store_cleanup_orphaned_sessions() AS deleted;
SELECT * FROM pg_temp.sessions();
-- [sessions 18] A session whose owner is gone is cleaned up at once when it has no work.
SELECT duroxide_internal.probe_detach(-2) AS owner_b_died;
SELECT duroxide_internal.store_cleanup_orphaned_sessions() AS deleted;
SELECT * FROM pg_temp.sessions();
SELECT pv.reset();
