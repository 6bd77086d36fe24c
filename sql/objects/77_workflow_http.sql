-- Workflow builder for the http node (docs/workflows.md). The request is refused unless its host
-- is on the superuser-only GUC duroxide.http_allowed_hosts (empty by default).
CREATE OR REPLACE FUNCTION duroxide.wf_http(method text, url text, headers jsonb DEFAULT NULL,
                                 body jsonb DEFAULT NULL, name text DEFAULT NULL,
                                 timeout interval DEFAULT NULL,
                                 expect_status jsonb DEFAULT NULL, retry jsonb DEFAULT NULL,
                                 tag text DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'http', 'method', upper(method), 'url', url)
           || duroxide._wf_opt('headers', headers) || duroxide._wf_opt('body', body)
           || duroxide._wf_opt('as', to_jsonb(name))
           || duroxide._wf_opt('timeout', duroxide._wf_ms(timeout))
           || duroxide._wf_opt('expect_status', expect_status)
           || duroxide._wf_opt('retry', retry) || duroxide._wf_opt('tag', to_jsonb(tag));
COMMENT ON FUNCTION duroxide.wf_http(text, text, jsonb, jsonb, text, interval, jsonb, jsonb,
                                     text) IS
    'Workflow builder: an http node (url, header values and body are value templates; '
    'expect_status a status, a "from-to" range or an array of those, default "200-299"; retry '
    'from duroxide.wf_retry). Hosts must be on duroxide.http_allowed_hosts.';
REVOKE ALL ON FUNCTION duroxide.wf_http(text, text, jsonb, jsonb, text, interval, jsonb, jsonb, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.wf_http(text, text, jsonb, jsonb, text, interval, jsonb, jsonb,
                                           text) TO duroxide_admin, duroxide_user;
