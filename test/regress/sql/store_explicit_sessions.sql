-- Provider validation: explicit activity sessions (issue 19). The ack of a turn records the
-- sessions it opened (open_sessions) and steals the locks of those it closed (their queued and
-- running activities and their session lease go, in the same transaction); sessions belong to
-- their instance; continue-as-new keeps them, a terminal turn closes them all; the sessions
-- view shows a role only the sessions of instances it may reach.
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/include/store_env.sql
\set ECHO all
SELECT duroxide_internal.probe_attach(-1, 'owner-a'), duroxide_internal.probe_attach(-2, 'owner-b');
CREATE FUNCTION pg_temp.opened(instance text, id bigint, session text) RETURNS jsonb LANGUAGE sql
    RETURN pv.ev(instance, id, 'SessionOpened', jsonb_build_object('session_id', session));
CREATE FUNCTION pg_temp.closed(instance text, id bigint, session text) RETURNS jsonb LANGUAGE sql
    RETURN pv.ev(instance, id, 'SessionClosed', jsonb_build_object('session_id', session));
CREATE FUNCTION pg_temp.on_session(instance text, id bigint, session text) RETURNS jsonb
    LANGUAGE sql RETURN pv.ev(instance, id, 'ActivityScheduled',
                              jsonb_build_object('name', 'A', 'input', '', 'session_id', session));
-- The next turn of `instance`: a raised event brings it to the dispatcher.
CREATE FUNCTION pg_temp.turn(instance text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE got text;
BEGIN
    PERFORM pv.enqueue(pv.raised(instance, 'go'));
    SELECT f.instance INTO got FROM pv.fetch() f;
    IF got IS DISTINCT FROM instance THEN
        RAISE EXCEPTION 'turn(%): fetched %', instance, got;
    END IF;
END $$;
CREATE FUNCTION pg_temp.state() RETURNS TABLE (instance_id text, session_id text, is_open boolean,
    owner_id text, queued bigint) LANGUAGE sql AS $$
    SELECT k.instance_id, k.session_id,
           EXISTS (SELECT 1 FROM duroxide.open_sessions o
                    WHERE o.instance_id = k.instance_id AND o.session_id = k.session_id),
           (SELECT l.owner_id FROM duroxide.session_locks l
             WHERE l.instance_id = k.instance_id AND l.session_id = k.session_id),
           (SELECT count(*) FROM duroxide.worker_queue w
             WHERE w.instance_id = k.instance_id AND w.session_id = k.session_id)
      FROM (SELECT instance_id, session_id FROM duroxide.open_sessions
            UNION SELECT instance_id, session_id FROM duroxide.session_locks
            UNION SELECT instance_id, session_id FROM duroxide.worker_queue
                   WHERE session_id IS NOT NULL) k
     ORDER BY 1, 2 $$;

-- [explicit 1] A turn that opens sessions records them with its ack; their activities queue.
SELECT pv.reset();
SELECT pv.create_instance('e1');
SELECT pg_temp.turn('e1');
SELECT pv.ack('e1', delta => jsonb_build_array(pg_temp.opened('e1', 3, 'a'),
                  pg_temp.opened('e1', 4, 'b'), pg_temp.on_session('e1', 5, 'a'),
                  pg_temp.on_session('e1', 6, 'b')),
              worker_items => jsonb_build_array(pv.activity('e1', 5, session => 'a'),
                  pv.activity('e1', 6, session => 'b')));
SELECT * FROM pg_temp.state();
-- [explicit 2] Owner a runs a's activity and pins a; owner b pins b.
SELECT item, session_id FROM pv.fetch_work(-1, session_owner => 'owner-a');
SELECT item, session_id FROM pv.fetch_work(-2, session_owner => 'owner-b');
SELECT * FROM pg_temp.state();
-- [explicit 3] Closing a steals its locks in the ack: the running activity's row and a's lease
-- go; b is untouched.
SELECT pg_temp.turn('e1');
SELECT pv.ack('e1', delta => jsonb_build_array(pg_temp.closed('e1', 8, 'a')));
SELECT * FROM pg_temp.state();
-- [explicit 4] The running activity of a finds out at its next renewal, and its late
-- completion is refused (nothing reaches the instance).
SELECT pv.renew_work('e1#5') AS renewed;
SELECT pv.try($$SELECT pv.ack_work('e1#5')$$) AS late_completion;
SELECT count(*) AS completions FROM duroxide.orchestrator_queue WHERE instance_id = 'e1';
-- [explicit 5] Closing an unknown or closed session changes nothing.
SELECT pg_temp.turn('e1');
SELECT pv.ack('e1', delta => jsonb_build_array(pg_temp.closed('e1', 10, 'a'),
                  pg_temp.closed('e1', 11, 'never')));
SELECT * FROM pg_temp.state();
-- [explicit 6] Close, reopen and schedule in one turn: the activity queued before the close
-- goes, the one scheduled after the reopen stays.
SELECT pv.ack_work('e1#6', owner => -2, session_owner => 'owner-b');
SELECT pg_temp.turn('e1');
SELECT pv.ack('e1', delta => jsonb_build_array(pg_temp.on_session('e1', 14, 'b'),
                  pg_temp.closed('e1', 15, 'b'), pg_temp.opened('e1', 16, 'b'),
                  pg_temp.on_session('e1', 17, 'b')),
              worker_items => jsonb_build_array(pv.activity('e1', 14, session => 'b'),
                  pv.activity('e1', 17, session => 'b')));
SELECT instance_id, activity_id, session_id FROM duroxide.worker_queue ORDER BY 2;
SELECT * FROM pg_temp.state();

-- [explicit 7] Sessions belong to their instance: e2 uses session id b too, and another owner
-- pins it while owner b may still own e1's b.
SELECT pv.create_instance('e2', activities => 1, session => 'b');
SELECT item, session_id, session_continued FROM pv.fetch_work(-1, session_owner => 'owner-a');
SELECT item, session_id, session_continued FROM pv.fetch_work(-2, session_owner => 'owner-b');
SELECT * FROM pg_temp.state();
SELECT string_agg(s, ', ' ORDER BY s) AS owner_b_holds
  FROM duroxide_internal.store_renew_sessions(-2, 'owner-b', 30000, 300000) s;

-- [explicit 8] Continue-as-new keeps the instance's sessions; completion closes them all
-- (and only that instance's).
SELECT pv.ack_work('e1#17', owner => -1, session_owner => 'owner-a');
SELECT pg_temp.turn('e1');
SELECT pv.ack('e1', delta => jsonb_build_array(pv.ev('e1', 20, 'OrchestrationContinuedAsNew',
                  '{"input":""}')), status => 'ContinuedAsNew');
SELECT * FROM pg_temp.state();
SELECT pg_temp.turn('e1');
SELECT pv.ack('e1', delta => jsonb_build_array(pv.completed('e1', 22)), status => 'Completed',
              output => 'done');
SELECT * FROM pg_temp.state();
-- [explicit 9] A failed (or cancelled) instance closes its sessions too.
SELECT pg_temp.turn('e2');
SELECT pv.ack('e2', delta => jsonb_build_array(pg_temp.opened('e2', 4, 'x'),
                                               pg_temp.opened('e2', 5, 'c')));
SELECT * FROM pg_temp.state();
SELECT pg_temp.turn('e2');
SELECT pv.ack('e2', delta => jsonb_build_array(pg_temp.closed('e2', 6, 'c'),
                  pv.ev('e2', 7, 'ActivityFailed', '{"source_event_id":2,"details":{"Application":{"kind":"ActivityFailed","message":"x","retryable":false}}}'),
                                               pv.ev('e2', 8, 'OrchestrationFailed',
                  '{"details":{"Application":{"kind":"OrchestrationFailed","message":"x","retryable":false}}}')),
              status => 'Failed', output => 'x', cancelled => jsonb_build_array(pv.cancelled('e2', 2)));
SELECT * FROM pg_temp.state();
-- A rewind reopens the sessions the rewound execution's history left open (x), not one it
-- closed (c): the failure's turn had deleted them.
SELECT action, event_id FROM duroxide.rewind_instance('e2', 'retry') ORDER BY 2;
SELECT * FROM pg_temp.state();

-- [explicit 10] release_session(instance, session) unpins only that instance's session.
SELECT pv.reset();
SELECT pv.create_instance('r1', activities => 1, session => 's');
SELECT pv.create_instance('r2', activities => 1, session => 's');
SELECT count(*) AS fetched FROM pv.fetch_work(-1, session_owner => 'owner-a');
SELECT count(*) AS fetched FROM pv.fetch_work(-1, session_owner => 'owner-a');
SELECT duroxide.release_session('r1', 's') AS released, duroxide.release_session('r1', 's') AS again;
SELECT * FROM pg_temp.state();
SELECT duroxide.release_session('s') AS released_everywhere;
SELECT * FROM pg_temp.state();

-- [explicit 11] The sessions view, by role: each user sees only the sessions of its own
-- instances (duroxide.isolate_instances is on); an admin sees all.
SELECT pv.reset();
CREATE ROLE regress_sess_a IN ROLE duroxide_user;
CREATE ROLE regress_sess_b IN ROLE duroxide_user;
CREATE ROLE regress_sess_admin IN ROLE duroxide_admin;
SELECT pv.create_instance('va');
SELECT pv.create_instance('vb', activities => 1, session => 'shared');
UPDATE duroxide.instances SET owner_role = 'regress_sess_a'::regrole WHERE instance_id = 'va';
UPDATE duroxide.instances SET owner_role = 'regress_sess_b'::regrole WHERE instance_id = 'vb';
SELECT pg_temp.turn('va');
SELECT pv.ack('va', delta => jsonb_build_array(pg_temp.opened('va', 3, 'shared')));
SELECT count(*) AS fetched FROM pv.fetch_work(-1, session_owner => 'owner-a');
SELECT instance_id, session_id, lifecycle, owner_id, pending_items, session_state
  FROM duroxide.sessions ORDER BY 1;
SET ROLE regress_sess_a;
SELECT instance_id, session_id, lifecycle, owner_id, pending_items FROM duroxide.sessions;
SET ROLE regress_sess_b;
SELECT instance_id, session_id, lifecycle, owner_id, pending_items FROM duroxide.sessions;
-- A cheap function of the caller's in the WHERE clause sees only the rows the view lets
-- through (the view reads a function that filters first): b's own session, never va.
CREATE FUNCTION pg_temp.leak(i text, s text) RETURNS boolean LANGUAGE plpgsql COST 0.00001 AS $$
BEGIN RAISE NOTICE 'saw % %', i, s; RETURN true; END $$;
SELECT count(*) AS b_rows FROM duroxide.sessions WHERE pg_temp.leak(instance_id, session_id);
DROP FUNCTION pg_temp.leak(text, text);
SELECT has_function_privilege('duroxide._may_access(oid)', 'EXECUTE') AS may_access_granted;
SET ROLE regress_sess_admin;
SELECT instance_id, session_id, lifecycle FROM duroxide.sessions ORDER BY 1;
RESET ROLE;
SELECT has_function_privilege('regress_sess_b', 'duroxide.release_session(text, text)', 'EXECUTE')
    AS user_may_release, has_function_privilege('regress_sess_admin',
    'duroxide.release_session(text, text)', 'EXECUTE') AS admin_may_release;
SELECT pv.reset();
DROP ROLE regress_sess_a, regress_sess_b, regress_sess_admin;
SELECT duroxide_internal.probe_detach(-1), duroxide_internal.probe_detach(-2);
