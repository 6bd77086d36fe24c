-- The http_multipart node (docs/workflows.md): its builders, define-time validation (SQLSTATE
-- 22023 with the JSON path, nothing written) and its refusal at run time while
-- duroxide.http_allowed_hosts is empty (the request itself: test/tap/022_workflow_http.pl).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS duroxide;  -- each suite runs alone or in any order
RESET client_min_messages;
\set SHOW_CONTEXT never
CREATE SCHEMA wfm;
-- 'ok' or 'SQLSTATE: message (DETAIL)'
CREATE FUNCTION wfm.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; detail text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    RETURN state || ': ' || message || coalesce(' (' || nullif(detail, '') || ')', '');
END
$$;

-- The builders assemble the node.
SELECT duroxide.wf_part('title', '"$input.title"');
SELECT duroxide.wf_part('report', '"$input.csv"', 'report.csv', 'text/csv');
SELECT duroxide.wf_http_multipart('$input.url', jsonb_build_array(
           duroxide.wf_part('title', '"$input.title"'),
           duroxide.wf_part('meta', '{"n": 1}')),
       method => 'put', name => 'up', timeout => '5 s', expect_status => '201');

-- Defined, it is shown as built.
SELECT duroxide.define_workflow('wfm_upload', duroxide.wf_seq(
           duroxide.wf_http_multipart('$input.url', jsonb_build_array(
               duroxide.wf_part('title', '"$input.title"'),
               duroxide.wf_part('report', '"$input.csv"', 'report.csv', 'text/csv')),
               name => 'up'),
           duroxide.wf_return('"$steps.up.status"'))) IS NOT NULL AS defined;
SELECT duroxide.show_workflow('wfm_upload')->'steps'->0 AS node;

-- Bad nodes are refused with the path, and nothing is written.
SELECT wfm.try($$SELECT duroxide.define_workflow('wfm_bad', '{"kind":"http_multipart","url":"http://h/"}')$$);
SELECT wfm.try($$SELECT duroxide.define_workflow('wfm_bad', duroxide.wf_http_multipart('http://h/', '[]'))$$);
SELECT wfm.try($$SELECT duroxide.define_workflow('wfm_bad', duroxide.wf_http_multipart('http://h/', jsonb_build_array(duroxide.wf_part('a', '1')), method => 'get'))$$);
SELECT wfm.try($$SELECT duroxide.define_workflow('wfm_bad', duroxide.wf_http_multipart('http://h/', jsonb_build_array(duroxide.wf_part('a"b', '1'))))$$);
SELECT wfm.try($$SELECT duroxide.define_workflow('wfm_bad', duroxide.wf_http_multipart('http://h/', jsonb_build_array(duroxide.wf_part('a', '1', content_type => 'csv'))))$$);
SELECT wfm.try($$SELECT duroxide.define_workflow('wfm_bad', duroxide.wf_http_multipart('http://h/', jsonb_build_array(duroxide.wf_part('a', '"$steps.nope"'))))$$);
SELECT wfm.try($$SELECT duroxide.define_workflow('wfm_bad', duroxide.wf_http_multipart('http://h/', jsonb_build_array(duroxide.wf_part('a', '1')), headers => '{"content-type": "text/plain"}'))$$);
SELECT wfm.try($$SELECT duroxide.define_workflow('wfm_bad', '{"kind":"http_multipart","url":"http://h/","body":"x","parts":[{"name":"a","value":1}]}')$$);
SELECT count(*) AS written FROM duroxide.workflows WHERE name = 'wfm_bad';

-- Off by default: with no allowed host the step fails before any connection.
SELECT duroxide.start_workflow('wfm-off', 'wfm_upload',
       '{"url": "http://127.0.0.1:9/up", "title": "t", "csv": "a,b"}');
SELECT status, error->'Application'->>'message' AS error
  FROM duroxide.wait_for_orchestration('wfm-off', '30 s');

SELECT duroxide.drop_workflow('wfm_upload');
DROP SCHEMA wfm CASCADE;
