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

-- Workflow builder for the http_multipart node: a multipart/form-data request whose parts come
-- from data (duroxide.wf_part builds one part).
CREATE OR REPLACE FUNCTION duroxide.wf_part(name text, value jsonb, filename text DEFAULT NULL,
                                 content_type text DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('name', name, 'value', value)
           || duroxide._wf_opt('filename', to_jsonb(filename))
           || duroxide._wf_opt('content_type', to_jsonb(content_type));
COMMENT ON FUNCTION duroxide.wf_part(text, jsonb, text, text) IS
    'Workflow builder: one part of an http_multipart node (value is a value template: text is '
    'sent as it is, other JSON as its text typed application/json; a filename makes it a file '
    'part, typed application/octet-stream unless content_type says otherwise).';
REVOKE ALL ON FUNCTION duroxide.wf_part(text, jsonb, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.wf_part(text, jsonb, text, text)
    TO duroxide_admin, duroxide_user;

CREATE OR REPLACE FUNCTION duroxide.wf_http_multipart(url text, parts jsonb,
                                 method text DEFAULT 'POST', headers jsonb DEFAULT NULL,
                                 name text DEFAULT NULL, timeout interval DEFAULT NULL,
                                 expect_status jsonb DEFAULT NULL, retry jsonb DEFAULT NULL,
                                 tag text DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
    RETURN jsonb_build_object('kind', 'http_multipart', 'method', upper(method), 'url', url,
                              'parts', parts)
           || duroxide._wf_opt('headers', headers)
           || duroxide._wf_opt('as', to_jsonb(name))
           || duroxide._wf_opt('timeout', duroxide._wf_ms(timeout))
           || duroxide._wf_opt('expect_status', expect_status)
           || duroxide._wf_opt('retry', retry) || duroxide._wf_opt('tag', to_jsonb(tag));
COMMENT ON FUNCTION duroxide.wf_http_multipart(text, jsonb, text, jsonb, text, interval, jsonb,
                                               jsonb, text) IS
    'Workflow builder: an http_multipart node sending multipart/form-data (parts: a JSON array '
    'of duroxide.wf_part values; method POST, PUT or PATCH). The same rules as wf_http: hosts '
    'must be on duroxide.http_allowed_hosts, no redirects.';
REVOKE ALL ON FUNCTION duroxide.wf_http_multipart(text, jsonb, text, jsonb, text, interval, jsonb,
                                                  jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.wf_http_multipart(text, jsonb, text, jsonb, text, interval,
                                                     jsonb, jsonb, text)
    TO duroxide_admin, duroxide_user;
