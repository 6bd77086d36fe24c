# The workflow http node against a tiny HTTP server the test starts on 127.0.0.1: refused while
# duroxide.http_allowed_hosts is empty and for a host not on the list (no request reaches the
# server), retries through two 503s to the JSON answer, and never follows a redirect.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);

my $dir = PostgreSQL::Test::Utils::tempdir;
my $script = "$dir/server.py";
open(my $fh, '>', $script) or die "cannot write $script: $!";
print $fh <<'PY';
import email.parser, email.policy, http.server, json, os, signal, sys
d = sys.argv[1]
signal.alarm(120)  # stops by itself whatever happens to the test
counts = {}
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        counts[self.path] = counts.get(self.path, 0) + 1
        with open(d + '/counts.tmp', 'w') as f: json.dump(counts, f)
        os.replace(d + '/counts.tmp', d + '/counts.json')
        if self.path == '/flaky' and counts[self.path] <= 2:
            self.send_response(503); self.send_header('Content-Length', '0'); self.end_headers()
        elif self.path == '/flaky':
            body = b'{"ok": true, "attempt": %d}' % counts[self.path]
            self.send_response(200); self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
        elif self.path == '/redirect':
            self.send_response(302)
            self.send_header('Location', 'http://127.0.0.1:%d/target' % self.server.server_port)
            self.send_header('Content-Length', '0'); self.end_headers()
        else:
            self.send_response(200); self.send_header('Content-Length', '0'); self.end_headers()
    def do_POST(self):  # echoes the multipart/form-data parts it parsed
        counts[self.path] = counts.get(self.path, 0) + 1
        with open(d + '/counts.tmp', 'w') as f: json.dump(counts, f)
        os.replace(d + '/counts.tmp', d + '/counts.json')
        raw = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        ctype = self.headers.get('Content-Type', '')
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b'Content-Type: ' + ctype.encode() + b'\r\n\r\n' + raw)
        parts = [{'name': p.get_param('name', header='content-disposition'),
                  'filename': p.get_filename(), 'type': p.get('Content-Type'),
                  'value': p.get_payload(decode=True).decode()}
                 for p in (msg.iter_parts() if msg.is_multipart() else [])]
        body = json.dumps({'method': self.command, 'form': ctype.split(';')[0],
                           'x_id': self.headers.get('X-Id'), 'parts': parts}).encode()
        self.send_response(200); self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
    do_PUT = do_POST
s = http.server.HTTPServer(('127.0.0.1', 0), H)
with open(d + '/port.tmp', 'w') as f: f.write(str(s.server_port))
os.replace(d + '/port.tmp', d + '/port')
s.serve_forever()
PY
close $fh;
my $server = IPC::Run::start(['python3', $script, $dir]);

sub wait_for { # polls $cond until true or the deadline
    my ($cond) = @_;
    my $deadline = time + 60;
    while (time < $deadline) {
        return 1 if $cond->();
        select(undef, undef, undef, 0.05);
    }
    return 0;
}
ok(wait_for(sub { -s "$dir/port" }), 'the HTTP server is listening');
my $port = slurp_file("$dir/port");
sub requests {
    my ($path) = @_;
    return 0 unless -e "$dir/counts.json";
    my $text = slurp_file("$dir/counts.json");
    return $text =~ /"\Q$path\E": (\d+)/ ? $1 : 0;
}

my $node = duroxide_node('workflow_http', conf => "duroxide.activity_workers = 1\n");
$node->safe_psql('postgres', qq{
SELECT duroxide.define_workflow('fetch', duroxide.wf_seq(
    duroxide.wf_http('get', '\$input.url', name => 'call',
                     retry => duroxide.wf_retry(3, 'fixed', '10 ms')),
    duroxide.wf_return(to_jsonb('\$steps.call'::text))));
SELECT duroxide.define_workflow('upload', duroxide.wf_seq(
    duroxide.wf_http_multipart('\$input.url', jsonb_build_array(
        duroxide.wf_part('title', '"\$input.title"'),
        duroxide.wf_part('meta', '{"n": 2, "who": "\$input.title"}'),
        duroxide.wf_part('report', '"\$input.csv"', 'report.csv', 'text/csv'),
        duroxide.wf_part('blob', '"raw"', 'blob.bin')),
        method => 'put', headers => '{"X-Id": "\$input.title"}', name => 'up'),
    duroxide.wf_return(to_jsonb('\$steps.up.json'::text))));
SELECT duroxide.define_workflow('fetch_302', duroxide.wf_http('GET', '\$input.url',
                                expect_status => '302'));
});

sub run_to_end {
    my ($id, $workflow, $url) = @_;
    $node->safe_psql('postgres',
        "SELECT duroxide.start_workflow('$id', '$workflow', jsonb_build_object('url', '$url'))");
    $node->poll_query_until('postgres',
        "SELECT status IN ('Completed', 'Failed') FROM duroxide.get_orchestration_status('$id')")
      or die "$id did not finish";
    return $node->safe_psql('postgres',
        "SELECT status || ' ' || coalesce(output, error::text) "
      . "FROM duroxide.get_orchestration_status('$id')");
}

like($node->safe_psql('postgres', "SELECT string_agg(x, E'\\n') FROM duroxide.explain_workflow('fetch') x"),
    qr/http GET \$input\.url/, 'explain_workflow shows the method and URL');

# Off by default.
like(run_to_end('off', 'fetch', "http://127.0.0.1:$port/flaky"),
    qr/^Failed .*HTTP steps are off: duroxide\.http_allowed_hosts is empty/,
    'an empty allow-list refuses the step, naming the GUC');
is(requests('/flaky'), 0, 'no request reached the server');
$node->append_conf('postgresql.conf', "duroxide.http_allowed_hosts = 'localhost:1, 127.0.0.1:$port'\n");
$node->restart;

$node->safe_psql('postgres', 'CREATE ROLE plain LOGIN');
my ($rc, $stdout, $stderr) = $node->psql('postgres',
    "SET ROLE plain; SET duroxide.http_allowed_hosts = 'evil.example'");
like($stderr, qr/permission denied to set parameter "duroxide\.http_allowed_hosts"/,
    'only a superuser sets the allow-list');
($rc, $stdout, $stderr) = $node->psql('postgres', 'SET ROLE plain; SHOW duroxide.http_allowed_hosts');
unlike($stdout, qr/127\.0\.0\.1/, 'nor does another role read it');

like(run_to_end('other-host', 'fetch', "http://localhost:$port/flaky"),
    qr/^Failed .*host \\"localhost:$port\\" of .* is not in duroxide\.http_allowed_hosts/,
    'a host (and port) not on the list is refused');
is(requests('/flaky'), 0, 'no request reached the server');
like(run_to_end('scheme', 'fetch', "file:///etc/passwd"),
    qr/^Failed .*only http and https URLs are allowed/, 'other schemes are refused');

my $out = run_to_end('flaky', 'fetch', "http://127.0.0.1:$port/flaky");
like($out, qr/^Completed \{.*"status":200/, 'the step retried through two 503s and completed');
like($out, qr/"json":\{"attempt":3,"ok":true\}/, 'the JSON body is parsed into "json"');
like($out, qr/"content-type":"application\/json"/, 'the response headers are in the result');
is(requests('/flaky'), 3, 'three requests: two 503s and the 200');

like(run_to_end('redirect', 'fetch', "http://127.0.0.1:$port/redirect"),
    qr/^Failed .*returned status 302, expected 200-299/,
    'a redirect is not followed: the 302 is an unexpected status');
is(requests('/redirect'), 3, 'the redirect was asked once per attempt');
like(run_to_end('redirect-ok', 'fetch_302', "http://127.0.0.1:$port/redirect"),
    qr/^Completed .*"location":"http:\/\/127\.0\.0\.1:$port\/target".*"status":302/,
    'a 302 that is expected completes with its Location header');
is(requests('/target'), 0, 'the redirect target was never requested');

# http_multipart: the same allow-list, then the parts as the server parsed them.
sub upload {
    my ($id, $url) = @_;
    $node->safe_psql('postgres', "SELECT duroxide.start_workflow('$id', 'upload', "
      . "jsonb_build_object('url', '$url', 'title', 'Q3 report', 'csv', E'a,b\\n1,2\\n'))");
    $node->poll_query_until('postgres',
        "SELECT status IN ('Completed', 'Failed') FROM duroxide.get_orchestration_status('$id')")
      or die "$id did not finish";
    return $node->safe_psql('postgres', "SELECT status || ' ' || coalesce(output, error::text) "
      . "FROM duroxide.get_orchestration_status('$id')");
}
like(upload('up-other', "http://localhost:$port/upload"),
    qr/^Failed .*host \\"localhost:$port\\" of .* is not in duroxide\.http_allowed_hosts/,
    'a multipart request to a host not on the list is refused');
is(requests('/upload'), 0, 'no multipart request reached the server');
my $up = upload('up', "http://127.0.0.1:$port/upload");
like($up, qr/^Completed /, 'the multipart step completed');
$up =~ s/^Completed //;
is($node->safe_psql('postgres', qq{SELECT jsonb_pretty('$up'::jsonb) = jsonb_pretty('{
    "method": "PUT", "form": "multipart/form-data", "x_id": "Q3 report",
    "parts": [
        {"name": "title", "filename": null, "type": null, "value": "Q3 report"},
        {"name": "meta", "filename": null, "type": "application/json",
         "value": "{\\"n\\":2,\\"who\\":\\"Q3 report\\"}"},
        {"name": "report", "filename": "report.csv", "type": "text/csv", "value": "a,b\\n1,2\\n"},
        {"name": "blob", "filename": "blob.bin", "type": "application/octet-stream",
         "value": "raw"}]}'::jsonb)}), 't',
    'the server received every part with its name, filename, content type and evaluated value')
  or diag($up);
is(requests('/upload'), 1, 'one multipart request');

$node->stop;
$server->kill_kill;
done_testing();
