-- Per-owner workflow variables (docs/workflows.md, "Variables"). A role reads and writes only
-- its own: every function keys on duroxide._calling_role(), and the table itself is not
-- readable or writable by duroxide_user or duroxide_admin.
COMMENT ON TABLE duroxide.variables IS
    'Per-owner workflow variables (duroxide.set_variable): one row per owning role and name.';
REVOKE ALL ON duroxide.variables FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide._check_variable_name(name text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION 'variable name must not be null' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Name the variable: 1 to 128 letters, digits and _, not starting with a digit.';
    END IF;
    IF name !~ '^[A-Za-z_][A-Za-z0-9_]{0,127}$' THEN
        RAISE EXCEPTION 'invalid variable name "%"',
            left(name, 64) || CASE WHEN length(name) > 64 THEN '...' ELSE '' END
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A variable name is 1 to 128 letters, digits and _, not starting with a digit.';
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._check_variable_name(text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._check_variable_name(text) IS
    'Internal: refuses a NULL or malformed variable name (22004, 22023) with a HINT.';

-- The starter's variables as start_workflow records them in the instance's input:
-- {"vars": {name: value}}, or {} (no field, so that histories without variables are unchanged).
CREATE OR REPLACE FUNCTION duroxide._variables_snapshot(owner oid) RETURNS jsonb
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT CASE WHEN count(*) = 0 THEN '{}'::jsonb
                    ELSE jsonb_build_object('vars', jsonb_object_agg(v.name, v.value)) END
          FROM duroxide.variables v WHERE v.owner_role = _variables_snapshot.owner;
    END;
REVOKE ALL ON FUNCTION duroxide._variables_snapshot(oid) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._variables_snapshot(oid) IS
    'Internal: {"vars": {name: value}} of a role''s variables, or {} when it has none (called by '
    'the SECURITY DEFINER starts of workflows).';

CREATE OR REPLACE FUNCTION duroxide.set_variable(name text, value jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_variable_name(name);
    IF value IS NULL THEN
        RAISE EXCEPTION 'variable value must not be null' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Give a jsonb value (''null''::jsonb for JSON null), or delete the variable with duroxide.delete_variable.';
    END IF;
    IF octet_length(value::text) > 65536 THEN
        RAISE EXCEPTION 'variable "%" is larger than 64 kB', name
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'Keep large data in a table and store its key in the variable.';
    END IF;
    INSERT INTO duroxide.variables AS v (owner_role, name, value)
    VALUES (duroxide._calling_role(), set_variable.name, set_variable.value)
    ON CONFLICT ON CONSTRAINT variables_pkey
    DO UPDATE SET value = EXCLUDED.value, updated_at = clock_timestamp();
END
$fn$;
COMMENT ON FUNCTION duroxide.set_variable(text, jsonb) IS
    'Sets the calling role''s variable "name" (1 to 128 letters, digits and _) to "value" (at '
    'most 64 kB); workflows this role starts afterwards read it as $vars.<name>.';

CREATE OR REPLACE FUNCTION duroxide.get_variable(name text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    result jsonb;
BEGIN
    PERFORM duroxide._check_variable_name(name);
    SELECT v.value INTO result FROM duroxide.variables v
     WHERE v.owner_role = duroxide._calling_role() AND v.name = get_variable.name;
    RETURN result;
END
$fn$;
COMMENT ON FUNCTION duroxide.get_variable(text) IS
    'The calling role''s variable "name", or NULL when it has none of that name.';

CREATE OR REPLACE FUNCTION duroxide.list_variables()
    RETURNS TABLE (name text, value jsonb, updated_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT v.name, v.value, v.updated_at FROM duroxide.variables v
         WHERE v.owner_role = duroxide._calling_role() ORDER BY v.name;
    END;
COMMENT ON FUNCTION duroxide.list_variables() IS
    'The calling role''s variables, by name.';

CREATE OR REPLACE FUNCTION duroxide.delete_variable(name text) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._check_variable_name(name);
    DELETE FROM duroxide.variables v
     WHERE v.owner_role = duroxide._calling_role() AND v.name = delete_variable.name;
    RETURN FOUND;
END
$fn$;
COMMENT ON FUNCTION duroxide.delete_variable(text) IS
    'Deletes the calling role''s variable "name"; true when there was one.';

REVOKE ALL ON FUNCTION duroxide.set_variable(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.set_variable(text, jsonb) TO duroxide_admin, duroxide_user;
REVOKE ALL ON FUNCTION duroxide.get_variable(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.get_variable(text) TO duroxide_admin, duroxide_user;
REVOKE ALL ON FUNCTION duroxide.list_variables() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.list_variables() TO duroxide_admin, duroxide_user;
REVOKE ALL ON FUNCTION duroxide.delete_variable(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.delete_variable(text) TO duroxide_admin, duroxide_user;
