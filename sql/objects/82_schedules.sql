-- Recurring schedules (docs/user-guide.md "Recurring schedules"): a cron expression in a time
-- zone that starts an orchestration or an SQL workflow at each fire, as the role that created
-- the schedule. The rows are in duroxide.schedules (sql/install/83_schedules.sql); the
-- dispatchers fire them (runtime/services/schedule_runner.cpp, policy in
-- core/schedule/policy.hpp). Each run is instance "schedule:<name>:<fire time UTC>".

-- Whether the calling role may see and change a schedule owned by "owner": the owner, a member
-- of it, or a member of duroxide_admin (superusers are members of every role).
CREATE OR REPLACE FUNCTION duroxide._may_manage_schedule(owner oid) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT owner = duroxide._calling_role()
            OR pg_has_role(duroxide._calling_role(), 'duroxide_admin', 'USAGE')
            OR CASE WHEN EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = owner)
                    THEN pg_has_role(duroxide._calling_role(), owner, 'USAGE') ELSE false END;
    END;
REVOKE ALL ON FUNCTION duroxide._may_manage_schedule(oid) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._may_manage_schedule(oid) IS
    'Internal: whether the calling role may see and change a schedule owned by "owner" (the owner, its members, duroxide_admin).';

CREATE OR REPLACE FUNCTION duroxide._check_schedule_name(name text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_instance_arg(name, 'schedule name');
    IF octet_length(name) > 200 THEN
        RAISE EXCEPTION 'schedule name % is too long (the limit is 200 bytes)', duroxide._quote(name)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The name is part of each run''s instance id, which is limited to 256 bytes.';
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._check_schedule_name(text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._check_schedule_name(text) IS
    'Internal: the schedule name checks (NULL: 22004; empty, over 200 bytes, control characters: 22023).';

-- The schedule visible to the caller, locked; 42704 (the same for a name another role owns)
-- when there is none.
CREATE OR REPLACE FUNCTION duroxide._schedule_for_update(name text) RETURNS duroxide.schedules
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s duroxide.schedules;
BEGIN
    PERFORM duroxide._check_schedule_name(name);
    SELECT * INTO s FROM duroxide.schedules t WHERE t.name = _schedule_for_update.name FOR UPDATE;
    IF s.name IS NULL OR NOT duroxide._may_manage_schedule(s.owner_role) THEN
        RAISE EXCEPTION 'schedule % does not exist', duroxide._quote(name)
            USING ERRCODE = 'undefined_object',
                  HINT = 'See duroxide.list_schedules() for your schedules.';
    END IF;
    RETURN s;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._schedule_for_update(text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._schedule_for_update(text) IS
    'Internal: the schedule "name" if the calling role may manage it, locked; 42704 otherwise.';

-- Applies "options" to schedule "s" (kind, version, time_zone, overlap, catch_up,
-- catch_up_max; start_at is read by the callers), checks everything a run needs as the owner,
-- and returns the checked row. Raises, writing nothing, on the first problem.
CREATE OR REPLACE FUNCTION duroxide._schedule_apply(s duroxide.schedules, options jsonb)
    RETURNS duroxide.schedules
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    o jsonb := coalesce(options, '{}');
    unknown text;
    def record;
BEGIN
    IF jsonb_typeof(o) <> 'object' THEN
        RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'For example ''{"time_zone": "Europe/Paris", "overlap": "skip"}''.';
    END IF;
    SELECT string_agg(duroxide._quote(k), ', ' ORDER BY k) INTO unknown
      FROM jsonb_object_keys(o) k
     WHERE k NOT IN ('kind', 'version', 'time_zone', 'overlap', 'catch_up', 'catch_up_max',
                     'start_at');
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown schedule option %', unknown USING ERRCODE = 'invalid_parameter_value',
            HINT = 'The options are kind, version, time_zone, overlap, catch_up, catch_up_max '
                   'and start_at.';
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_each(o) e
                WHERE e.key <> 'catch_up_max' AND jsonb_typeof(e.value) NOT IN ('string', 'null')) THEN
        RAISE EXCEPTION 'schedule options other than catch_up_max must be text or null'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF o ? 'kind' THEN s.kind := coalesce(o->>'kind', 'orchestration'); END IF;
    IF o ? 'version' THEN s.version := o->>'version'; END IF;
    IF o ? 'time_zone' THEN s.time_zone := o->>'time_zone'; END IF;
    IF o ? 'overlap' THEN s.overlap := coalesce(o->>'overlap', 'skip'); END IF;
    IF o ? 'catch_up' THEN s.catch_up := coalesce(o->>'catch_up', 'skip_missed'); END IF;
    IF o ? 'catch_up_max' THEN
        IF jsonb_typeof(o->'catch_up_max') <> 'number' OR (o->>'catch_up_max') !~ '^[0-9]{1,3}$'
           OR (o->>'catch_up_max')::int NOT BETWEEN 1 AND 100 THEN
            RAISE EXCEPTION 'catch_up_max must be a whole number from 1 to 100, not %',
                            duroxide._quote(o->>'catch_up_max')
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'It is how many of the latest missed fires catch_up "bounded" runs.';
        END IF;
        s.catch_up_max := (o->>'catch_up_max')::int;
    END IF;

    IF s.kind NOT IN ('orchestration', 'workflow') THEN
        RAISE EXCEPTION 'unknown schedule kind %', duroxide._quote(s.kind)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use "orchestration" (a registered orchestration) or "workflow" (an SQL workflow).';
    END IF;
    IF s.overlap NOT IN ('skip', 'buffer_one', 'allow_all') THEN
        RAISE EXCEPTION 'unknown overlap policy %', duroxide._quote(s.overlap)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use skip, buffer_one or allow_all.';
    END IF;
    IF s.catch_up NOT IN ('skip_missed', 'run_once', 'backfill_all', 'bounded') THEN
        RAISE EXCEPTION 'unknown catch-up policy %', duroxide._quote(s.catch_up)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use skip_missed, run_once, backfill_all or bounded (with catch_up_max).';
    END IF;
    IF s.cron IS NULL THEN
        RAISE EXCEPTION 'cron must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    BEGIN
        PERFORM duroxide.cron_next_fire(s.cron, now(), NULL);
    EXCEPTION WHEN invalid_parameter_value THEN
        RAISE EXCEPTION 'invalid cron expression %: %', duroxide._quote(s.cron), SQLERRM
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Five fields: minute hour day-of-month month day-of-week, such as '
                         '''0 9 * * MON-FRI'', or a macro such as @daily.';
    END;
    IF s.time_zone IS NOT NULL THEN
        BEGIN
            PERFORM duroxide.cron_next_fire(s.cron, now(), s.time_zone);
        EXCEPTION WHEN invalid_parameter_value THEN
            RAISE EXCEPTION 'unknown time zone %', duroxide._quote(s.time_zone)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Use a name of pg_timezone_names, such as ''Europe/Paris'', or NULL for UTC.';
        END;
    END IF;
    IF s.orchestration IS NULL THEN
        RAISE EXCEPTION 'orchestration must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM duroxide._check_instance_arg(s.orchestration, 'orchestration name');
    IF s.version IS NOT NULL AND s.version !~ '^[0-9]+\.[0-9]+\.[0-9]+$' THEN
        RAISE EXCEPTION 'version % is not a semantic version', duroxide._quote(s.version)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give MAJOR.MINOR.PATCH, for example ''1.0.0'', or leave it out.';
    END IF;
    s.input := coalesce(s.input, '');
    IF s.kind = 'orchestration' THEN
        IF NOT duroxide._is_orchestration_provided(s.orchestration, s.version) THEN
            RAISE EXCEPTION '%', 'orchestration ' || duroxide._quote(s.orchestration)
                                 || CASE WHEN s.version IS NOT NULL
                                         THEN ' version ' || duroxide._quote(s.version) ELSE '' END
                                 || ' is not registered'
                USING ERRCODE = 'undefined_object',
                      HINT = 'Registered orchestrations: '
                             || duroxide._registered_orchestrations_summary()
                             || '. For an SQL workflow pass options => ''{"kind": "workflow"}''.';
        END IF;
    ELSE
        SELECT d.version, d.owner_role INTO def
          FROM duroxide.workflow_definitions d
         WHERE d.name = s.orchestration AND (s.version IS NULL OR d.version = s.version)
         ORDER BY string_to_array(d.version, '.')::int[] DESC LIMIT 1;
        IF def.version IS NULL OR NOT duroxide._may_start_workflow(s.orchestration, def.owner_role,
                                                                    s.owner_role) THEN
            RAISE EXCEPTION '%', 'workflow ' || duroxide._quote(s.orchestration)
                                 || CASE WHEN s.version IS NOT NULL
                                         THEN ' version ' || duroxide._quote(s.version) ELSE '' END
                                 || ' does not exist'
                USING ERRCODE = 'undefined_object',
                      HINT = 'See duroxide.workflows for the workflows you may start.';
        END IF;
        IF s.version IS NULL
           AND NOT duroxide._workflow_default_version_allowed(def.owner_role, s.owner_role) THEN
            RAISE EXCEPTION 'workflow % belongs to another role: name the version to run',
                            duroxide._quote(s.orchestration)
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Pass options => ''{"kind": "workflow", "version": "..."}'' with the '
                             'version you reviewed; its SQL steps run as the schedule''s owner.';
        END IF;
        IF s.input <> '' THEN
            BEGIN
                PERFORM s.input::jsonb;
            EXCEPTION WHEN invalid_text_representation THEN
                RAISE EXCEPTION 'the input of a workflow schedule must be JSON'
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Pass a JSON text such as ''{"day": 1}'', or '''' for none.';
            END;
        END IF;
    END IF;
    RETURN s;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._schedule_apply(duroxide.schedules, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._schedule_apply(duroxide.schedules, jsonb) IS
    'Internal: a schedule row with "options" applied, checked as its owner (cron, zone, policies, orchestration or workflow).';

-- The first fire strictly after the options' start_at (default now()).
CREATE OR REPLACE FUNCTION duroxide._schedule_first_fire(s duroxide.schedules, options jsonb)
    RETURNS timestamptz
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    start_at timestamptz := now();
BEGIN
    IF options ? 'start_at' AND options->>'start_at' IS NOT NULL THEN
        BEGIN
            start_at := (options->>'start_at')::timestamptz;
        EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow
                       OR invalid_parameter_value THEN
            RAISE EXCEPTION 'start_at % is not a time', duroxide._quote(options->>'start_at')
                USING ERRCODE = 'invalid_datetime_format',
                      HINT = 'Give a timestamptz, such as ''2026-12-08 09:00+00''.';
        END;
    END IF;
    RETURN duroxide.cron_next_fire(s.cron, start_at, s.time_zone);
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._schedule_first_fire(duroxide.schedules, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._schedule_first_fire(duroxide.schedules, jsonb) IS
    'Internal: the first fire of a schedule after its start_at option (default now()).';

CREATE OR REPLACE FUNCTION duroxide.create_schedule(name text, cron text, orchestration text,
                                                    input text DEFAULT '',
                                                    options jsonb DEFAULT '{}')
    RETURNS timestamptz
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s duroxide.schedules;
    taken_by oid;
BEGIN
    PERFORM duroxide._check_schedule_name(name);
    s.name := name;
    s.owner_role := duroxide._calling_role();
    s.cron := cron;
    s.kind := 'orchestration';
    s.orchestration := orchestration;
    s.input := input;
    s.overlap := 'skip';
    s.catch_up := 'skip_missed';
    s.catch_up_max := 1;
    s := duroxide._schedule_apply(s, options);
    s.next_fire_at := duroxide._schedule_first_fire(s, coalesce(options, '{}'));
    INSERT INTO duroxide.schedules AS t (name, owner_role, cron, time_zone, kind, orchestration,
                                         version, input, overlap, catch_up, catch_up_max,
                                         next_fire_at)
    VALUES (s.name, s.owner_role, s.cron, s.time_zone, s.kind, s.orchestration, s.version,
            s.input, s.overlap, s.catch_up, s.catch_up_max, s.next_fire_at)
    ON CONFLICT ON CONSTRAINT schedules_pkey DO NOTHING;
    IF NOT FOUND THEN
        SELECT t.owner_role INTO taken_by FROM duroxide.schedules t WHERE t.name = s.name;
        IF duroxide._may_manage_schedule(taken_by) THEN
            RAISE EXCEPTION 'schedule % already exists', duroxide._quote(name)
                USING ERRCODE = 'unique_violation',
                      HINT = 'Change it with duroxide.alter_schedule, or drop it first.';
        END IF;
        -- Nothing about the other role's schedule.
        RAISE EXCEPTION 'schedule name % is not available', duroxide._quote(name)
            USING ERRCODE = 'unique_violation', HINT = 'Choose another schedule name.';
    END IF;
    PERFORM duroxide._wake_at_commit();
    RETURN s.next_fire_at;
END
$fn$;
COMMENT ON FUNCTION duroxide.create_schedule(text, text, text, text, jsonb) IS
    'Creates recurring schedule "name": at each fire of the 5-field cron expression (in option '
    'time_zone, default UTC) the dispatchers start "orchestration" (or, with option kind '
    '"workflow", that SQL workflow) with "input" as the calling role, as instance '
    '"schedule:<name>:<fire time>". Options: version, overlap (skip, buffer_one, allow_all), '
    'catch_up (skip_missed, run_once, backfill_all, bounded), catch_up_max, start_at. Returns '
    'the first fire time.';

CREATE OR REPLACE FUNCTION duroxide.alter_schedule(name text, cron text DEFAULT NULL,
                                                   orchestration text DEFAULT NULL,
                                                   input text DEFAULT NULL,
                                                   options jsonb DEFAULT NULL)
    RETURNS timestamptz
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s duroxide.schedules := duroxide._schedule_for_update(name);
    o jsonb := coalesce(options, '{}');
BEGIN
    s.cron := coalesce(alter_schedule.cron, s.cron);
    s.orchestration := coalesce(alter_schedule.orchestration, s.orchestration);
    s.input := coalesce(alter_schedule.input, s.input);
    s := duroxide._schedule_apply(s, o);
    -- A new timing counts from now (or start_at); fires already considered are not repeated.
    IF alter_schedule.cron IS NOT NULL OR o ? 'time_zone' OR o ? 'start_at' THEN
        s.next_fire_at := duroxide._schedule_first_fire(s, o);
    END IF;
    UPDATE duroxide.schedules t
       SET cron = s.cron, time_zone = s.time_zone, kind = s.kind, orchestration = s.orchestration,
           version = s.version, input = s.input, overlap = s.overlap, catch_up = s.catch_up,
           catch_up_max = s.catch_up_max, next_fire_at = s.next_fire_at,
           pending_fire_at = CASE WHEN s.overlap = 'buffer_one' THEN t.pending_fire_at END,
           updated_at = clock_timestamp()
     WHERE t.name = s.name;
    PERFORM duroxide._wake_at_commit();
    RETURN s.next_fire_at;
END
$fn$;
COMMENT ON FUNCTION duroxide.alter_schedule(text, text, text, text, jsonb) IS
    'Changes schedule "name": the arguments given (NULL keeps the current value) and the options '
    'given (as for create_schedule); a new cron, time_zone or start_at counts fires from now (or '
    'start_at). Returns the next fire time. 42704 for a schedule the caller may not manage.';

CREATE OR REPLACE FUNCTION duroxide.pause_schedule(name text) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s duroxide.schedules := duroxide._schedule_for_update(name);
BEGIN
    IF s.paused THEN
        RETURN false;
    END IF;
    UPDATE duroxide.schedules t SET paused = true, updated_at = clock_timestamp()
     WHERE t.name = s.name;
    RETURN true;
END
$fn$;
COMMENT ON FUNCTION duroxide.pause_schedule(text) IS
    'Pauses schedule "name": it starts nothing until resumed (runs already started go on). '
    'Returns false when it was paused already.';

CREATE OR REPLACE FUNCTION duroxide.resume_schedule(name text) RETURNS timestamptz
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s duroxide.schedules := duroxide._schedule_for_update(name);
BEGIN
    IF s.paused THEN
        -- The fires of the pause are not caught up: the next one after now.
        s.next_fire_at := duroxide.cron_next_fire(s.cron, now(), s.time_zone);
        UPDATE duroxide.schedules t
           SET paused = false, next_fire_at = s.next_fire_at, pending_fire_at = NULL,
               updated_at = clock_timestamp()
         WHERE t.name = s.name;
        PERFORM duroxide._wake_at_commit();
    END IF;
    RETURN s.next_fire_at;
END
$fn$;
COMMENT ON FUNCTION duroxide.resume_schedule(text) IS
    'Resumes paused schedule "name" from its next fire after now (fires of the pause are not '
    'caught up); returns the next fire time.';

CREATE OR REPLACE FUNCTION duroxide.drop_schedule(name text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s duroxide.schedules := duroxide._schedule_for_update(name);
BEGIN
    DELETE FROM duroxide.schedules t WHERE t.name = s.name;
END
$fn$;
COMMENT ON FUNCTION duroxide.drop_schedule(text) IS
    'Drops schedule "name" (runs already started go on). 42704 for a schedule the caller may '
    'not manage.';

CREATE OR REPLACE FUNCTION duroxide.list_schedules()
    RETURNS TABLE (name text, owner regrole, cron text, time_zone text, kind text,
                   orchestration text, version text, input text, overlap text, catch_up text,
                   catch_up_max integer, paused boolean, next_fire_at timestamptz,
                   pending_fire_at timestamptz, last_fire_at timestamptz,
                   last_instance_id text, fires bigint, last_error text,
                   created_at timestamptz, updated_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT s.name, s.owner_role::regrole, s.cron, s.time_zone, s.kind, s.orchestration,
               s.version, s.input, s.overlap, s.catch_up, s.catch_up_max, s.paused,
               s.next_fire_at, s.pending_fire_at, s.last_fire_at, s.last_instance_id, s.fires,
               s.last_error, s.created_at, s.updated_at
          FROM duroxide.schedules s
         WHERE duroxide._may_manage_schedule(s.owner_role)
         ORDER BY s.name;
    END;
COMMENT ON FUNCTION duroxide.list_schedules() IS
    'The schedules the calling role may manage (its own; all for duroxide_admin) with their '
    'state: next and pending fire, last fire and instance, fires started, last error.';

-- The runner's start of one fire (runtime/services/schedule_runner.cpp, through
-- store/schedules.cpp): as the schedule's owner (SET ROLE for the call), exactly as that role's
-- own start_orchestration / start_workflow, so ownership, registration and the workflow's
-- variables are the owner's. Returns 'started', 'exists' (the fire was started before: a
-- second dispatcher, or a retry after a crash) or the error, which is not raised: one schedule's
-- problem must not stop the others.
CREATE OR REPLACE FUNCTION duroxide._schedule_start(name text, instance text) RETURNS text
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s duroxide.schedules;
    started boolean;
BEGIN
    SELECT * INTO STRICT s FROM duroxide.schedules t WHERE t.name = _schedule_start.name;
    BEGIN
        PERFORM pg_catalog.set_config('role', s.owner_role::regrole::text, true);
        IF s.kind = 'workflow' THEN
            started := duroxide.start_workflow(instance, s.orchestration,
                                               nullif(s.input, '')::jsonb, s.version,
                                               jsonb_build_object('schedule', s.name)) IS NOT NULL;
        ELSE
            started := duroxide.start_orchestration(instance, s.orchestration, s.input, s.version);
        END IF;
        PERFORM pg_catalog.set_config('role', 'none', true);
        RETURN CASE WHEN started THEN 'started' ELSE 'exists' END;
    EXCEPTION WHEN OTHERS THEN
        RETURN SQLSTATE || ': ' || left(SQLERRM, 400);
    END;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._schedule_start(text, text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._schedule_start(text, text) IS
    'Internal (the dispatchers): starts one fire of schedule "name" as instance "instance", as '
    'the schedule''s owner; returns started, exists or the error.';

REVOKE ALL ON duroxide.schedules FROM PUBLIC;
GRANT SELECT ON duroxide.schedules TO duroxide_admin;
COMMENT ON TABLE duroxide.schedules IS
    'Recurring schedules (duroxide.create_schedule); read them with duroxide.list_schedules().';
DO $grants$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'duroxide.create_schedule(text, text, text, text, jsonb)',
        'duroxide.alter_schedule(text, text, text, text, jsonb)',
        'duroxide.pause_schedule(text)', 'duroxide.resume_schedule(text)',
        'duroxide.drop_schedule(text)', 'duroxide.list_schedules()'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO duroxide_admin, duroxide_user', f);
    END LOOP;
END
$grants$;
