-- SQL-authored workflows (docs/workflows.md): definitions are immutable, versioned JSON run by
-- the extension's interpreter orchestration "duroxide.workflow". Written only through the
-- validating SECURITY DEFINER functions below.
COMMENT ON TABLE duroxide.workflow_definitions IS
    'Workflow definitions (duroxide.define_workflow): immutable, one row per name and version.';
REVOKE ALL ON duroxide.workflow_definitions FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide._workflow_definitions_immutable() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION 'workflow definitions are immutable'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Define a new version with duroxide.define_workflow.';
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._workflow_definitions_immutable() FROM PUBLIC;
COMMENT ON FUNCTION duroxide._workflow_definitions_immutable() IS
    'Internal: refuses updates of workflow definitions (a version never changes).';
CREATE OR REPLACE TRIGGER workflow_definitions_immutable BEFORE UPDATE ON duroxide.workflow_definitions
    FOR EACH ROW EXECUTE FUNCTION duroxide._workflow_definitions_immutable();
COMMENT ON TABLE duroxide.workflow_grants IS
    'Roles allowed to start a workflow they do not own (duroxide.grant_workflow).';
REVOKE ALL ON duroxide.workflow_grants FROM PUBLIC;
COMMENT ON TABLE duroxide.workflow_version_policies IS
    'Pinned default versions of workflows (duroxide.set_workflow_version_policy).';
REVOKE ALL ON duroxide.workflow_version_policies FROM PUBLIC;
COMMENT ON TABLE duroxide.workflow_instances IS
    'The workflow name, definition version and labels each workflow instance was started with.';
REVOKE ALL ON duroxide.workflow_instances FROM PUBLIC;

-- A deleted instance takes its workflow row with it (delete_instance, prune, retention: every
-- path deletes duroxide.instances rows), so a later instance with the same id starts clean.
CREATE OR REPLACE FUNCTION duroxide._workflow_instances_deleted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    DELETE FROM duroxide.workflow_instances w USING gone g WHERE w.instance_id = g.instance_id;
    RETURN NULL;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._workflow_instances_deleted() FROM PUBLIC;
COMMENT ON FUNCTION duroxide._workflow_instances_deleted() IS
    'Internal: deletes the workflow_instances rows of deleted instances.';
CREATE OR REPLACE TRIGGER workflow_instances_deleted AFTER DELETE ON duroxide.instances
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION duroxide._workflow_instances_deleted();

CREATE OR REPLACE FUNCTION duroxide._validate_workflow(definition text) RETURNS void
    LANGUAGE c IMMUTABLE STRICT AS 'MODULE_PATHNAME', 'duroxide_validate_workflow';
REVOKE ALL ON FUNCTION duroxide._validate_workflow(text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._validate_workflow(text) IS
    'Internal: validates a workflow definition; SQLSTATE 22023 with the JSON path in DETAIL.';

CREATE OR REPLACE FUNCTION duroxide._may_start_workflow(name text, owner oid, role oid) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT pg_has_role(role, owner, 'USAGE')
            OR pg_has_role(role, 'duroxide_admin', 'USAGE')
            OR EXISTS (SELECT 1 FROM duroxide.workflow_grants g
                        WHERE g.name = _may_start_workflow.name
                          AND pg_has_role(role, g.grantee, 'USAGE'));
    END;
REVOKE ALL ON FUNCTION duroxide._may_start_workflow(text, oid, oid) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._may_start_workflow(text, oid, oid) IS
    'Internal: whether "role" may start workflow "name" owned by "owner" (owner, admin or grant).';

-- Whether "role" has the privileges of the owner: only then does a start without a version take
-- the pinned or newest one (code the owner defines later never runs as another role unnamed).
CREATE OR REPLACE FUNCTION duroxide._workflow_default_version_allowed(owner oid, role oid) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT pg_has_role(role, owner, 'USAGE');
    END;
REVOKE ALL ON FUNCTION duroxide._workflow_default_version_allowed(oid, oid) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._workflow_default_version_allowed(oid, oid) IS
    'Internal: whether "role" may start a workflow owned by "owner" without naming its version.';

CREATE OR REPLACE FUNCTION duroxide._workflow_version_in_use(name text, version text) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT EXISTS (
            SELECT 1 FROM duroxide.workflow_instances w
              LEFT JOIN duroxide.instances i ON i.instance_id = w.instance_id
              LEFT JOIN duroxide.executions e
                     ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
             WHERE w.name = _workflow_version_in_use.name
               AND (_workflow_version_in_use.version IS NULL
                    OR w.version = _workflow_version_in_use.version)
               AND (e.status IN ('Running', 'ContinuedAsNew')
                    OR (i.instance_id IS NULL AND EXISTS (
                            SELECT 1 FROM duroxide.orchestrator_queue q
                             WHERE q.instance_id = w.instance_id))));
    END;
REVOKE ALL ON FUNCTION duroxide._workflow_version_in_use(text, text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._workflow_version_in_use(text, text) IS
    'Internal: whether an instance not yet finished runs a version of workflow "name" (NULL: any).';

CREATE OR REPLACE FUNCTION duroxide.define_workflow(name text, definition jsonb, version text DEFAULT NULL)
    RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    caller oid := duroxide._calling_role();
    owner oid;
    latest text;
    chosen text := version;
BEGIN
    IF name IS NULL OR definition IS NULL THEN
        RAISE EXCEPTION 'name and definition must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF name !~ '^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$' OR name = 'duroxide.workflow' THEN
        RAISE EXCEPTION 'invalid workflow name "%"', left(name, 64)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A name is 1 to 128 letters, digits, "_", ".", ":" or "-", starting with a letter or "_".';
    END IF;
    PERFORM duroxide._validate_workflow(definition::text);
    -- One owner per name: only the role that defined the first version (or a role with its
    -- privileges) adds versions; an admin is no co-owner (its code would run as the owner's
    -- starters).
    PERFORM pg_advisory_xact_lock(hashtext('duroxide.workflow:' || name));
    SELECT d.owner_role,
           (SELECT l.version FROM duroxide.workflow_definitions l WHERE l.name = define_workflow.name
             ORDER BY string_to_array(l.version, '.')::int[] DESC LIMIT 1)
      INTO owner, latest
      FROM duroxide.workflow_definitions d WHERE d.name = define_workflow.name LIMIT 1;
    IF owner IS NOT NULL AND NOT pg_has_role(caller, owner, 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for workflow "%"', name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Another role defined it.',
                  HINT = 'Only its owner (or a member of the owner) defines its versions: choose another name.';
    END IF;
    IF chosen IS NULL THEN
        chosen := CASE WHEN latest IS NULL THEN '1.0.0' ELSE
            (string_to_array(latest, '.')::int[])[1] || '.' || (string_to_array(latest, '.')::int[])[2]
            || '.' || ((string_to_array(latest, '.')::int[])[3] + 1) END;
    ELSIF chosen !~ '^[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,9}$' THEN
        RAISE EXCEPTION 'invalid version "%"', left(chosen, 64)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'A version is MAJOR.MINOR.PATCH, e.g. 1.2.0.';
    ELSIF latest IS NOT NULL
          AND string_to_array(chosen, '.')::int[] <= string_to_array(latest, '.')::int[] THEN
        RAISE EXCEPTION 'version % of workflow "%" must be greater than the latest, %', chosen, name, latest
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Definitions are immutable: define a new version.';
    END IF;
    INSERT INTO duroxide.workflow_definitions (name, version, definition, owner_role, defined_by)
    VALUES (name, chosen, definition, coalesce(owner, caller), caller);
    RETURN chosen;
END
$fn$;
COMMENT ON FUNCTION duroxide.define_workflow(text, jsonb, text) IS
    'Validates and stores an immutable workflow definition as version "version" (default: the '
    'next patch version, 1.0.0 for a new name) and returns the version. Only the name''s owner '
    '(the role that defined its first version) or its members may add versions (42501). Invalid '
    'definitions are refused with SQLSTATE 22023 and the JSON path of the offending node in DETAIL.';

CREATE OR REPLACE FUNCTION duroxide._check_workflow_labels(labels jsonb) RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF labels IS NOT NULL AND (jsonb_typeof(labels) <> 'object'
            OR EXISTS (SELECT 1 FROM jsonb_each(labels) e WHERE jsonb_typeof(e.value) <> 'string')
            OR (SELECT count(*) FROM jsonb_each(labels)) > 32
            OR length(labels::text) > 4096) THEN
        RAISE EXCEPTION 'labels must be a JSON object of at most 32 text values (4 kB)'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example ''{"customer": "c-42", "channel": "web"}''.';
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._check_workflow_labels(jsonb) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._check_workflow_labels(jsonb) IS
    'Internal: the argument check of the labels given at a workflow''s start.';

-- Starts workflow "name" (the exact version, or the newest) as instance "instance": the
-- definition travels in the instance's input, so its history pins the version. The instance is
-- owned by the calling role, and its SQL steps run as that role. A role without the owner's
-- privileges (an admin, a grantee) must name the version. NULL when the instance exists already.
CREATE OR REPLACE FUNCTION duroxide.start_workflow(instance text, name text, input jsonb DEFAULT NULL,
                                        version text DEFAULT NULL, labels jsonb DEFAULT NULL)
    RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    def record;
    caller oid := duroxide._calling_role();
BEGIN
    IF instance IS NULL OR name IS NULL THEN
        RAISE EXCEPTION 'instance and name must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM duroxide._check_workflow_labels(labels);
    -- The given version, else the one the version policy pins, else the newest.
    SELECT d.version, d.definition, d.owner_role INTO def
      FROM duroxide.workflow_definitions d
     WHERE d.name = start_workflow.name
       AND d.version = coalesce(start_workflow.version,
                                (SELECT p.version FROM duroxide.workflow_version_policies p
                                  WHERE p.name = start_workflow.name), d.version)
     ORDER BY string_to_array(d.version, '.')::int[] DESC LIMIT 1;
    IF def.version IS NULL OR NOT duroxide._may_start_workflow(name, def.owner_role, caller) THEN
        RAISE EXCEPTION 'workflow "%"% does not exist', left(name, 128),
                        coalesce(' version ' || left(version, 32), '')
            USING ERRCODE = 'undefined_object',
                  HINT = 'See duroxide.workflows for the workflows you may start.';
    END IF;
    IF version IS NULL AND NOT duroxide._workflow_default_version_allowed(def.owner_role, caller) THEN
        RAISE EXCEPTION 'workflow "%" belongs to another role: name the version to start',
                        left(name, 128)
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Read it with duroxide.show_workflow(name, version) and pass version => '
                         'the one you reviewed; its SQL steps run as you.';
    END IF;
    IF NOT duroxide.start_orchestration(instance, 'duroxide.workflow',
            (jsonb_build_object('workflow', name, 'version', def.version,
                                'definition', def.definition, 'input', input)
             || duroxide._variables_snapshot(caller))::text) THEN
        RETURN NULL;  -- the instance exists already: nothing started, nothing recorded
    END IF;
    INSERT INTO duroxide.workflow_instances AS w (instance_id, name, version, labels)
    VALUES (instance, name, def.version, coalesce(labels, '{}'))
    ON CONFLICT (instance_id) DO UPDATE
       SET name = excluded.name, version = excluded.version, labels = excluded.labels;
    RETURN def.version;
END
$fn$;
COMMENT ON FUNCTION duroxide.start_workflow(text, text, jsonb, text, jsonb) IS
    'Starts workflow "name" (version "version", default the version policy''s or the newest) as '
    'instance "instance" with '
    '"input" and "labels" (a JSON object of text values, for list_workflow_instances); returns '
    'the version it runs, or NULL (starting nothing) when the instance exists already. Its SQL '
    'steps run as the calling role; a role that is not the owner or its member must name '
    '"version" (42501).';

CREATE OR REPLACE FUNCTION duroxide.start_workflow_definition(instance text, definition jsonb,
                                                   input jsonb DEFAULT NULL,
                                                   labels jsonb DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF instance IS NULL OR definition IS NULL THEN
        RAISE EXCEPTION 'instance and definition must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM duroxide._validate_workflow(definition::text);
    PERFORM duroxide._check_workflow_labels(labels);
    IF duroxide.start_orchestration(instance, 'duroxide.workflow',
            (jsonb_build_object('workflow', NULL, 'definition', definition, 'input', input)
             || duroxide._variables_snapshot(duroxide._calling_role()))::text) THEN
        INSERT INTO duroxide.workflow_instances AS w (instance_id, name, version, labels)
        VALUES (instance, NULL, NULL, coalesce(labels, '{}'))
        ON CONFLICT (instance_id) DO UPDATE
           SET name = NULL, version = NULL, labels = excluded.labels;
    END IF;
END
$fn$;
COMMENT ON FUNCTION duroxide.start_workflow_definition(text, jsonb, jsonb, jsonb) IS
    'Validates an ad-hoc workflow definition and starts it as instance "instance" with "input"; '
    'the definition is stored only in the instance''s history.';

-- The rows of duroxide.workflows: filtered here, as the calling role, so that the view needs no
-- privilege on the catalog tables.
CREATE OR REPLACE FUNCTION duroxide._workflows()
    RETURNS TABLE (name text, version text, owner regrole, created_at timestamptz, latest boolean,
                   in_use boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT d.name, d.version, d.owner_role::regrole, d.created_at,
               d.version = (SELECT l.version FROM duroxide.workflow_definitions l
                             WHERE l.name = d.name
                             ORDER BY string_to_array(l.version, '.')::int[] DESC LIMIT 1),
               duroxide._workflow_version_in_use(d.name, d.version)
          FROM duroxide.workflow_definitions d
         WHERE duroxide._may_start_workflow(d.name, d.owner_role, duroxide._calling_role())
         ORDER BY d.name, string_to_array(d.version, '.')::int[];
    END;
REVOKE ALL ON FUNCTION duroxide._workflows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide._workflows() TO duroxide_admin, duroxide_user;
COMMENT ON FUNCTION duroxide._workflows() IS
    'Internal: the rows of duroxide.workflows (the definitions the calling role may start).';

CREATE OR REPLACE VIEW duroxide.workflows AS SELECT * FROM duroxide._workflows();
COMMENT ON VIEW duroxide.workflows IS
    'The workflow definitions the current role may start: name, version, owner, whether it is '
    'the newest version and whether an unfinished instance runs it.';
REVOKE ALL ON duroxide.workflows FROM PUBLIC;

CREATE OR REPLACE FUNCTION duroxide.show_workflow(name text, version text DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT d.definition FROM duroxide.workflow_definitions d
         WHERE d.name = show_workflow.name
           AND (show_workflow.version IS NULL OR d.version = show_workflow.version)
           AND duroxide._may_start_workflow(d.name, d.owner_role, duroxide._calling_role())
         ORDER BY string_to_array(d.version, '.')::int[] DESC LIMIT 1;
    END;
COMMENT ON FUNCTION duroxide.show_workflow(text, text) IS
    'The definition of workflow "name" at "version" (default: the newest); NULL when there is '
    'none the current role may start.';

CREATE OR REPLACE FUNCTION duroxide.drop_workflow(name text, version text DEFAULT NULL) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    caller oid := duroxide._calling_role();
    owner oid;
    dropped integer;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('duroxide.workflow:' || name));
    SELECT d.owner_role INTO owner FROM duroxide.workflow_definitions d
     WHERE d.name = drop_workflow.name
       AND (drop_workflow.version IS NULL OR d.version = drop_workflow.version) LIMIT 1;
    IF owner IS NULL THEN
        RAISE EXCEPTION 'workflow "%"% does not exist', left(name, 128),
                        coalesce(' version ' || left(version, 32), '')
            USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT pg_has_role(caller, owner, 'USAGE') AND NOT pg_has_role(caller, 'duroxide_admin', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for workflow "%"', name USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF duroxide._workflow_version_in_use(name, version) THEN
        RAISE EXCEPTION 'workflow "%"% is in use by a running instance', name,
                        coalesce(' version ' || version, '')
            USING ERRCODE = 'object_in_use',
                  HINT = 'Wait for its instances to finish, or cancel them.';
    END IF;
    DELETE FROM duroxide.workflow_definitions d
     WHERE d.name = drop_workflow.name
       AND (drop_workflow.version IS NULL OR d.version = drop_workflow.version);
    GET DIAGNOSTICS dropped = ROW_COUNT;
    IF NOT EXISTS (SELECT 1 FROM duroxide.workflow_definitions d WHERE d.name = drop_workflow.name) THEN
        DELETE FROM duroxide.workflow_grants g WHERE g.name = drop_workflow.name;
    END IF;
    DELETE FROM duroxide.workflow_version_policies p
     WHERE p.name = drop_workflow.name
       AND NOT EXISTS (SELECT 1 FROM duroxide.workflow_definitions d
                        WHERE d.name = p.name AND d.version = p.version);
    RETURN dropped;
END
$fn$;
COMMENT ON FUNCTION duroxide.drop_workflow(text, text) IS
    'Drops version "version" of workflow "name" (default: every version) and returns how many; '
    'refused (55006) while an unfinished instance runs it.';

CREATE OR REPLACE FUNCTION duroxide.set_workflow_version_policy(name text, version text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    caller oid := duroxide._calling_role();
    owner oid;
BEGIN
    SELECT d.owner_role INTO owner FROM duroxide.workflow_definitions d
     WHERE d.name = set_workflow_version_policy.name LIMIT 1;
    IF owner IS NULL THEN
        RAISE EXCEPTION 'workflow "%" does not exist', left(name, 128) USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT pg_has_role(caller, owner, 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for workflow "%"', name
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Only its owner (or a member of the owner) sets its version policy.';
    END IF;
    IF version IS NULL THEN
        DELETE FROM duroxide.workflow_version_policies p WHERE p.name = set_workflow_version_policy.name;
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM duroxide.workflow_definitions d
                    WHERE d.name = set_workflow_version_policy.name
                      AND d.version = set_workflow_version_policy.version) THEN
        RAISE EXCEPTION 'workflow "%" has no version "%"', name, left(version, 32)
            USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO duroxide.workflow_version_policies AS p (name, version, set_by)
    VALUES (set_workflow_version_policy.name, set_workflow_version_policy.version, caller)
    ON CONFLICT ON CONSTRAINT workflow_version_policies_pkey DO UPDATE
       SET version = excluded.version, set_by = excluded.set_by, set_at = clock_timestamp();
END
$fn$;
COMMENT ON FUNCTION duroxide.set_workflow_version_policy(text, text) IS
    'Pins the version of workflow "name" that start_workflow uses when given none (NULL: the '
    'newest again) for its owner''s starts; the owner or its members only (42501). Running '
    'instances keep their version.';

CREATE OR REPLACE FUNCTION duroxide.grant_workflow(name text, grantee regrole) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    caller oid := duroxide._calling_role();
    owner oid;
BEGIN
    SELECT d.owner_role INTO owner FROM duroxide.workflow_definitions d
     WHERE d.name = grant_workflow.name LIMIT 1;
    IF owner IS NULL THEN
        RAISE EXCEPTION 'workflow "%" does not exist', left(name, 128) USING ERRCODE = 'undefined_object';
    END IF;
    IF grantee IS NULL THEN
        RAISE EXCEPTION 'grantee must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_has_role(caller, owner, 'USAGE') AND NOT pg_has_role(caller, 'duroxide_admin', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for workflow "%"', name USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO duroxide.workflow_grants (name, grantee, granted_by)
    VALUES (grant_workflow.name, grant_workflow.grantee, caller)
    ON CONFLICT ON CONSTRAINT workflow_grants_pkey DO NOTHING;
END
$fn$;
COMMENT ON FUNCTION duroxide.grant_workflow(text, regrole) IS
    'Lets "grantee" (and its members) start workflow "name"; owner or duroxide_admin only. '
    'Their instances, and SQL steps, run as themselves.';

CREATE OR REPLACE FUNCTION duroxide.revoke_workflow(name text, grantee regrole) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    owner oid;
BEGIN
    SELECT d.owner_role INTO owner FROM duroxide.workflow_definitions d
     WHERE d.name = revoke_workflow.name LIMIT 1;
    IF owner IS NULL THEN
        RAISE EXCEPTION 'workflow "%" does not exist', left(name, 128) USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT pg_has_role(duroxide._calling_role(), owner, 'USAGE')
       AND NOT pg_has_role(duroxide._calling_role(), 'duroxide_admin', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for workflow "%"', name USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM duroxide.workflow_grants g
     WHERE g.name = revoke_workflow.name AND g.grantee = revoke_workflow.grantee;
END
$fn$;
COMMENT ON FUNCTION duroxide.revoke_workflow(text, regrole) IS
    'Withdraws a grant_workflow; running instances are not affected.';

CREATE OR REPLACE FUNCTION duroxide.list_workflow_instances(name text DEFAULT NULL, labels jsonb DEFAULT NULL,
                                                 max_rows integer DEFAULT 100)
    RETURNS TABLE (instance_id text, workflow text, version text, labels jsonb, status text,
                   created_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    BEGIN ATOMIC
        SELECT w.instance_id, w.name, w.version, w.labels,
               coalesce(duroxide._client_status(e.status), 'Pending'), i.created_at
          FROM duroxide.workflow_instances w
          JOIN duroxide.instances i ON i.instance_id = w.instance_id
          LEFT JOIN duroxide.executions e
                 ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id
         WHERE duroxide._may_access(i.owner_role) AND i.orchestration_name = 'duroxide.workflow'
           AND (list_workflow_instances.name IS NULL OR w.name = list_workflow_instances.name)
           AND (list_workflow_instances.labels IS NULL OR w.labels @> list_workflow_instances.labels)
         ORDER BY i.created_at, w.instance_id
         LIMIT greatest(least(coalesce(max_rows, 100), 10000), 0);
    END;
COMMENT ON FUNCTION duroxide.list_workflow_instances(text, jsonb, integer) IS
    'The workflow instances the caller may reach, of workflow "name" and carrying every label of '
    '"labels" (when given), oldest first, at most "max_rows" (up to 10000).';

DO $grants$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'duroxide.define_workflow(text, jsonb, text)',
        'duroxide.start_workflow(text, text, jsonb, text, jsonb)',
        'duroxide.start_workflow_definition(text, jsonb, jsonb, jsonb)',
        'duroxide.list_workflow_instances(text, jsonb, integer)',
        'duroxide.show_workflow(text, text)', 'duroxide.drop_workflow(text, text)',
        'duroxide.grant_workflow(text, regrole)', 'duroxide.revoke_workflow(text, regrole)',
        'duroxide.set_workflow_version_policy(text, text)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO duroxide_admin, duroxide_user', f);
    END LOOP;
END
$grants$;
GRANT SELECT ON duroxide.workflows TO duroxide_admin, duroxide_user;
