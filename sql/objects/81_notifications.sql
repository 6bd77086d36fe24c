-- Completion notifications (docs/user-guide.md, "Waiting without a snapshot: LISTEN";
-- docs/operations.md, "Notifications"). The transaction that records an execution's Completed
-- or Failed status (and, with duroxide.notify_custom_status on, a new custom status) sends a
-- pg_notify at its commit, from a trigger on the table that holds it, so every path (a
-- completion, a failure, a cancellation, the last execution of a continue-as-new chain) is
-- caught, and a rolled-back turn sends nothing.
--
-- Channels are global: any session may LISTEN on any name. So nothing is sent on a name a role
-- could guess: each owner role has a channel named 'duroxide_' || 40 hex digits of
-- sha256(secret || 'role:' || oid), and every instance is also announced on one all-instances
-- channel (sha256(secret || 'all')), where the secret is a random row only the extension owner
-- reads. A role obtains a name through duroxide.notification_channel / duroxide.listen, which
-- check the same rule as every other client call (duroxide._may_access): its own instances,
-- those of roles it has the privileges of, all of them for administrators (or when
-- duroxide.isolate_instances is off).

-- The channel of key 'role:<oid>' or 'all' (internal: the name is what protects the payloads).
-- C (src/sql_api/notification_channel.cpp): the derivation is a statement of the store
-- (store/notification_channels.cpp), and each backend keeps the names it derived until the
-- secret may have changed (the trigger below; the catalog generation), so a completion does
-- not read the secret and hash it twice.
CREATE OR REPLACE FUNCTION duroxide._notification_channel(key text) RETURNS text
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'duroxide_notification_channel';
REVOKE ALL ON FUNCTION duroxide._notification_channel(text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._notification_channel(text) IS
    'Internal: the notification channel of key ''role:<oid>'' or ''all'', derived from the secret in duroxide.notification_secret (cached per backend until the secret changes).';

-- A change of the secret (rotate_notification_secret, a restore): the backends derive the
-- names again (the committing one at once, the others after the commit).
CREATE OR REPLACE FUNCTION duroxide._notification_secret_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'duroxide_notification_secret_changed';
REVOKE ALL ON FUNCTION duroxide._notification_secret_changed() FROM PUBLIC;
COMMENT ON FUNCTION duroxide._notification_secret_changed() IS
    'Internal: statement trigger of duroxide.notification_secret; the cached channel names are derived again.';
CREATE OR REPLACE TRIGGER notification_secret_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON duroxide.notification_secret
    FOR EACH STATEMENT EXECUTE FUNCTION duroxide._notification_secret_changed();

-- A notification's JSON: kind, instance, execution, status, then the value (output, error or
-- custom status) when the payload stays under pg_notify's 8000 bytes; else the value is left
-- out and "large" is true (read it with duroxide.get_orchestration_status).
CREATE OR REPLACE FUNCTION duroxide._notification_payload(kind text, instance text,
                                                          execution bigint, status text,
                                                          field text, value text,
                                                          custom_status_version integer)
    RETURNS text
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    payload text;
BEGIN
    payload := json_build_object('kind', kind, 'instance', instance, 'execution', execution,
                                 'status', status, field, value,
                                 'custom_status_version', custom_status_version,
                                 'large', false)::text;
    IF octet_length(payload) < 8000 THEN
        RETURN payload;
    END IF;
    RETURN json_build_object('kind', kind, 'instance', instance, 'execution', execution,
                             'status', status, field, NULL,
                             'custom_status_version', custom_status_version,
                             'large', true)::text;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._notification_payload(text, text, bigint, text, text, text, integer)
    FROM PUBLIC;
COMMENT ON FUNCTION duroxide._notification_payload(text, text, bigint, text, text, text, integer) IS
    'Internal: the JSON payload of a notification, its value left out ("large": true) when it would reach 8000 bytes.';

-- Sends a payload on the owner's channel (if the instance has one) and the all-instances one.
CREATE OR REPLACE FUNCTION duroxide._send_notification(owner oid, payload text) RETURNS void
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    -- The names come from _notification_channel, as the listeners' do, so the two cannot drift.
    IF owner IS NOT NULL THEN
        PERFORM pg_notify(duroxide._notification_channel('role:' || owner::text), payload);
    END IF;
    PERFORM pg_notify(duroxide._notification_channel('all'), payload);
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._send_notification(oid, text) FROM PUBLIC;
COMMENT ON FUNCTION duroxide._send_notification(oid, text) IS
    'Internal: pg_notify of a payload on the channel of role "owner" (when not NULL) and on the all-instances channel.';

-- An execution ended (Running -> Completed or Failed): the trigger's WHEN has checked that.
-- It runs once per ended execution, so it sends itself what _send_notification would (one
-- function call with a SET clause less per completion; the names still come from
-- _notification_channel).
CREATE OR REPLACE FUNCTION duroxide._notify_execution_ended() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    owner oid;
    payload text;
BEGIN
    SELECT i.owner_role INTO owner FROM duroxide.instances i WHERE i.instance_id = NEW.instance_id;
    payload := duroxide._notification_payload(
        'ended', NEW.instance_id, NEW.execution_id, NEW.status,
        CASE NEW.status WHEN 'Completed' THEN 'output' ELSE 'error' END,
        CASE NEW.status WHEN 'Completed' THEN NEW.output ELSE NEW.error END, NULL);
    IF owner IS NOT NULL THEN
        PERFORM pg_notify(duroxide._notification_channel('role:' || owner::text), payload);
    END IF;
    PERFORM pg_notify(duroxide._notification_channel('all'), payload);
    RETURN NULL;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._notify_execution_ended() FROM PUBLIC;
COMMENT ON FUNCTION duroxide._notify_execution_ended() IS
    'Internal: trigger of duroxide.executions that announces a completed or failed execution (duroxide.notify_completions).';
CREATE OR REPLACE TRIGGER execution_ended_notify AFTER UPDATE OF status ON duroxide.executions
    FOR EACH ROW
    WHEN (OLD.status = 'Running' AND NEW.status IN ('Completed', 'Failed')
          AND coalesce(current_setting('duroxide.notify_completions', true), 'on') = 'on')
    EXECUTE FUNCTION duroxide._notify_execution_ended();

-- A custom status changed (off unless duroxide.notify_custom_status is on).
CREATE OR REPLACE FUNCTION duroxide._notify_custom_status() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._send_notification(NEW.owner_role, duroxide._notification_payload(
        'custom_status', NEW.instance_id, NEW.current_execution_id, 'Running', 'custom_status',
        NEW.custom_status, NEW.custom_status_version));
    RETURN NULL;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide._notify_custom_status() FROM PUBLIC;
COMMENT ON FUNCTION duroxide._notify_custom_status() IS
    'Internal: trigger of duroxide.instances that announces a new custom status (duroxide.notify_custom_status).';
CREATE OR REPLACE TRIGGER custom_status_notify AFTER UPDATE OF custom_status ON duroxide.instances
    FOR EACH ROW
    WHEN (NEW.custom_status_version IS DISTINCT FROM OLD.custom_status_version
          AND current_setting('duroxide.notify_custom_status', true) = 'on')
    EXECUTE FUNCTION duroxide._notify_custom_status();

-- The channel a caller may listen on: that of "role" (default: the calling role), or with
-- all_instances the channel of every instance.
CREATE OR REPLACE FUNCTION duroxide.notification_channel(role regrole DEFAULT NULL,
                                                         all_instances boolean DEFAULT false)
    RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF all_instances IS NULL THEN
        RAISE EXCEPTION 'all_instances must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF all_instances THEN
        IF role IS NOT NULL THEN
            RAISE EXCEPTION 'give a role or all_instances, not both'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'The all-instances channel already carries every role''s instances.';
        END IF;
        IF NOT duroxide._may_access(NULL) THEN
            RAISE EXCEPTION 'permission denied to the notification channel of every instance'
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Only members of duroxide_admin (and superusers) listen for every instance; '
                             'call duroxide.listen() for your own.';
        END IF;
        RETURN duroxide._notification_channel('all');
    END IF;
    role := coalesce(role, duroxide._calling_role());
    IF NOT duroxide._may_access(role::oid) THEN
        RAISE EXCEPTION 'permission denied to the notification channel of role %',
                        duroxide._quote(role::text)
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'A role listens for its own instances and for those of the roles it has the privileges of.';
    END IF;
    RETURN duroxide._notification_channel('role:' || role::oid::text);
END
$fn$;
REVOKE ALL ON FUNCTION duroxide.notification_channel(regrole, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.notification_channel(regrole, boolean) TO duroxide_admin, duroxide_user;
COMMENT ON FUNCTION duroxide.notification_channel(regrole, boolean) IS
    'The notification channel of the instances owned by "role" (default: the calling role), or with all_instances of every instance (administrators). Keep it secret: whoever knows it can LISTEN.';

-- LISTEN / UNLISTEN inside the function, so the channel's name is not in the query text
-- (pg_stat_activity, the server log). Like the statements, they take effect at commit.
CREATE OR REPLACE FUNCTION duroxide.listen(role regrole DEFAULT NULL,
                                           all_instances boolean DEFAULT false)
    RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    channel text := duroxide.notification_channel(role, all_instances);
BEGIN
    EXECUTE format('LISTEN %I', channel);
    RETURN channel;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide.listen(regrole, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.listen(regrole, boolean) TO duroxide_admin, duroxide_user;
COMMENT ON FUNCTION duroxide.listen(regrole, boolean) IS
    'LISTENs this session on duroxide.notification_channel(role, all_instances) (from the commit on) and returns the channel''s name.';

CREATE OR REPLACE FUNCTION duroxide.unlisten(role regrole DEFAULT NULL,
                                             all_instances boolean DEFAULT false)
    RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    channel text := duroxide.notification_channel(role, all_instances);
BEGIN
    EXECUTE format('UNLISTEN %I', channel);
    RETURN channel;
END
$fn$;
REVOKE ALL ON FUNCTION duroxide.unlisten(regrole, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.unlisten(regrole, boolean) TO duroxide_admin, duroxide_user;
COMMENT ON FUNCTION duroxide.unlisten(regrole, boolean) IS
    'UNLISTENs this session from duroxide.notification_channel(role, all_instances) and returns the channel''s name.';

-- A new secret, hence new names for every channel (after a name leaked). Sessions listening on
-- the old names hear nothing more: they call duroxide.listen() again.
CREATE OR REPLACE FUNCTION duroxide.rotate_notification_secret() RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM duroxide._require_admin('rotate the notification secret');
    UPDATE duroxide.notification_secret
       SET secret = decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'),
           created_at = clock_timestamp();
END
$fn$;
REVOKE ALL ON FUNCTION duroxide.rotate_notification_secret() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.rotate_notification_secret() TO duroxide_admin;
COMMENT ON FUNCTION duroxide.rotate_notification_secret() IS
    'Replaces the secret the notification channel names derive from: every channel gets a new name (listeners call duroxide.listen() again).';
