-- Registration catalog: SQL functions registered as activities (and, with the runtime, plugins).

CREATE TABLE duroxide.sql_activities (
    name           text PRIMARY KEY,
    function_oid   regprocedure NOT NULL,
    input_type     regtype NOT NULL,
    output_type    regtype NOT NULL,
    run_as         regrole NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE duroxide.sql_activities IS
    'SQL functions usable as activities; each runs as the role that registered it (run_as).';
REVOKE ALL ON duroxide.sql_activities FROM PUBLIC;
GRANT SELECT ON duroxide.sql_activities TO duroxide_admin, duroxide_user;
GRANT INSERT, DELETE ON duroxide.sql_activities TO duroxide_admin;

-- SECURITY INVOKER on purpose: the registering role is current_user, and it is the role the
-- activity will run as.
CREATE FUNCTION duroxide.register_sql_activity(name text, fn regprocedure) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    p pg_catalog.pg_proc%ROWTYPE;
BEGIN
    IF name IS NULL OR fn IS NULL THEN
        RAISE EXCEPTION 'name and fn must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF length(name) = 0 OR octet_length(name) > 256 OR name ~ '[[:cntrl:]]' THEN
        RAISE EXCEPTION 'invalid activity name "%"', name USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Names are 1 to 256 bytes without control characters.';
    END IF;
    IF starts_with(name, '__duroxide_syscall:') THEN
        RAISE EXCEPTION 'activity names starting with "__duroxide_syscall:" are reserved'
            USING ERRCODE = 'reserved_name';
    END IF;
    SELECT * INTO p FROM pg_catalog.pg_proc WHERE oid = fn;
    IF p.prokind <> 'f' OR p.proretset OR p.pronargs <> 1
       OR p.proargtypes[0] NOT IN ('text'::regtype, 'jsonb'::regtype)
       OR p.prorettype NOT IN ('text'::regtype, 'jsonb'::regtype) THEN
        RAISE EXCEPTION 'function % cannot be an activity', fn
            USING ERRCODE = 'invalid_function_definition',
            DETAIL = 'An SQL activity takes one text or jsonb argument and returns text or jsonb '
                  || '(not a set, not a procedure or aggregate).';
    END IF;
    IF NOT has_function_privilege(current_user, fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'permission denied to execute function %', fn
            USING ERRCODE = 'insufficient_privilege',
            HINT = 'The activity runs as the role that registers it, which must be able to call it.';
    END IF;
    INSERT INTO duroxide.sql_activities (name, function_oid, input_type, output_type, run_as)
    VALUES (name, fn, p.proargtypes[0], p.prorettype, current_user::regrole);
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'activity "%" is already registered', name USING ERRCODE = 'duplicate_object',
        HINT = 'Use duroxide.unregister_sql_activity first to replace it.';
END
$fn$;
COMMENT ON FUNCTION duroxide.register_sql_activity(text, regprocedure) IS
    'Makes a SQL function (one text or jsonb argument, text or jsonb result) the activity "name". '
    'It runs as the registering role, in the same transaction as its completion.';
REVOKE ALL ON FUNCTION duroxide.register_sql_activity(text, regprocedure) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.register_sql_activity(text, regprocedure) TO duroxide_admin;

CREATE FUNCTION duroxide.unregister_sql_activity(name text) RETURNS boolean
    LANGUAGE sql VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        WITH gone AS (DELETE FROM duroxide.sql_activities a WHERE a.name = unregister_sql_activity.name
                      RETURNING 1)
        SELECT count(*) > 0 FROM gone;
    END;
COMMENT ON FUNCTION duroxide.unregister_sql_activity(text) IS
    'Removes the SQL activity "name"; returns whether it existed.';
REVOKE ALL ON FUNCTION duroxide.unregister_sql_activity(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.unregister_sql_activity(text) TO duroxide_admin;
