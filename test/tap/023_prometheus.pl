# Prometheus: Debian's prometheus-postgres-exporter, run with the queries file that
# `make install` ships, scrapes the duroxide series from a throwaway server, and they say what
# the server did: instances by status after a known workload, the counters of duroxide.metrics,
# the queues (a timer waiting, an activity no worker may take and its age) and the workers.
# The exporter connects as a member of pg_monitor holding no duroxide role; that role may call
# the four monitoring functions and nothing else of the extension.
use strict;
use warnings;
use HTTP::Tiny;
use IPC::Run;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $exporter = '/usr/bin/prometheus-postgres-exporter';
-x $exporter
  or BAIL_OUT("$exporter is missing: apt-get install prometheus-postgres-exporter "
      . '(scripts/install-deps.sh)');
chomp(my $sharedir = `pg_config --sharedir`);
my $queries = "$sharedir/extension/duroxide_exporter_queries.yaml";
ok(-f $queries, 'make install ships the queries file in the extension directory');

my $node = duroxide_node('prometheus', plugins => ['duroxide_sample'], conf => q{
duroxide.orchestration_dispatchers = 1
duroxide.activity_workers = 1
});
$node->safe_psql('postgres', q{
CREATE ROLE prom LOGIN IN ROLE pg_monitor;
});
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 2 FROM duroxide.runtime_status "
      . "WHERE role IN ('dispatcher', 'activity worker') AND state IN ('idle', 'running')"),
    'the workers are up');

# What the exporter's role may do: the monitoring functions, nothing else of the extension.
is($node->safe_psql('postgres', q{
SELECT string_agg(p.proname, ' ' ORDER BY p.proname) FROM pg_proc p
 WHERE p.pronamespace IN ('duroxide'::regnamespace, 'duroxide_internal'::regnamespace)
   AND has_function_privilege('prom', p.oid, 'EXECUTE')}),
    'monitoring_instances monitoring_metrics monitoring_processes monitoring_queues',
    'a pg_monitor member may call the four monitoring functions only');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_class c
 WHERE c.relnamespace IN ('duroxide'::regnamespace, 'duroxide_internal'::regnamespace)
   AND has_table_privilege('prom', c.oid, 'SELECT')}),
    '0', 'and read no table or view of the extension');
my ($rc, $out, $err) = $node->psql('postgres',
    "SELECT duroxide.list_instances()", extra_params => ['-U', 'prom']);
like($err, qr/permission denied for function list_instances/,
    'it cannot list instances (no instance id reaches it)');

# The workload: 3 completed, 1 failed, 2 running (a retry waiting on an hour's backoff; an
# activity tagged for a worker that does not exist, racing an hour's timer).
$node->safe_psql('postgres', q{
SELECT duroxide.reset_metrics();
SELECT duroxide.start_orchestration('ok-' || i, 'HelloWorld', 'N' || i) FROM generate_series(1, 3) i;
SELECT duroxide.start_orchestration('failed', 'Unhandled', 'broken');
SELECT duroxide.start_orchestration('slow-retry', 'SlowRetry', 'x');
SELECT duroxide.start_orchestration('tagged', 'TagRoute', 'gpu|3600000');
});
$node->safe_psql('postgres', qq{SELECT duroxide.wait_for_orchestration('$_', '30 s')})
  for qw(ok-1 ok-2 ok-3 failed);
ok($node->poll_query_until('postgres', q{
SELECT (SELECT delayed FROM duroxide.queue_depths WHERE queue = 'orchestrator') = 2
   AND (SELECT ready FROM duroxide.queue_depths WHERE queue = 'worker') = 1
   AND (SELECT value FROM duroxide.metrics WHERE metric = 'activities_failed_application') = 2}),
    'the workload has settled: two timers waiting, one tagged activity ready');

my $port = PostgreSQL::Test::Cluster::get_free_port();
my $dsn = 'host=' . $node->host . ' port=' . $node->port . ' user=prom dbname=postgres sslmode=disable';
my ($exp_out, $exp_err) = ('', '');
my $h = IPC::Run::start(
    [ $exporter, "--web.listen-address=127.0.0.1:$port", "--extend.query-path=$queries",
      '--disable-default-metrics', '--disable-settings-metrics' ],
    '>', \$exp_out, '2>', \$exp_err,
    init => sub { $ENV{DATA_SOURCE_NAME} = $dsn });

# Scrapes until the duroxide series are there (the exporter starts and connects first).
sub scrape {
    my ($want) = @_;
    my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
    my $body = '';
    while (time() < $deadline) {
        my $r = HTTP::Tiny->new(timeout => 5)->get("http://127.0.0.1:$port/metrics");
        $body = $r->{content} if $r->{success};
        return $body if $r->{success} && $body =~ $want;
        select(undef, undef, undef, 0.2);
    }
    diag("exporter stderr:\n$exp_err");
    return $body;
}

# The value of one series, matched by its name and a subset of its labels.
sub value_of {
    my ($body, $name, %labels) = @_;
    LINE: for my $line (split /\n/, $body) {
        next unless $line =~ /^\Q$name\E\{([^}]*)\} (\S+)$/;
        my ($labels, $value) = ($1, $2);
        for my $k (keys %labels) {
            next LINE unless $labels =~ /(?:^|,)\Q$k\E="\Q$labels{$k}\E"/;
        }
        return $value;
    }
    return undef;
}

my $body = scrape(qr/^duroxide_instance_count\{/m);
is(value_of($body, 'duroxide_instance_count', status => 'Completed'), '3', 'Completed: 3 instances');
is(value_of($body, 'duroxide_instance_count', status => 'Failed'), '1', 'Failed: 1 instance');
is(value_of($body, 'duroxide_instance_count', status => 'Running'), '2', 'Running: 2 instances');

is(value_of($body, 'duroxide_metrics_value', metric => 'orchestrations_completed', bucket => ''),
    '3', 'metrics: 3 orchestrations completed');
is(value_of($body, 'duroxide_metrics_value', metric => 'orchestrations_failed_application',
        bucket => ''), '1', 'metrics: 1 failed');
is(value_of($body, 'duroxide_metrics_value', metric => 'activities_succeeded', bucket => ''),
    '6', 'metrics: 6 activities succeeded');
is(value_of($body, 'duroxide_metrics_value', metric => 'activities_failed_application',
        bucket => ''), '2', 'metrics: 2 activities failed');
like($body, qr/^# TYPE duroxide_metrics_value counter$/m, 'the metrics are counters');

is(value_of($body, 'duroxide_queue_delayed', queue => 'orchestrator'), '2',
    'orchestrator queue: the two timers are delayed');
is(value_of($body, 'duroxide_queue_ready', queue => 'orchestrator'), '0',
    'orchestrator queue: nothing ready');
is(value_of($body, 'duroxide_queue_ready', queue => 'worker'), '1',
    'worker queue: the tagged activity is ready');
is(value_of($body, 'duroxide_queue_in_progress', queue => 'worker'), '0',
    'worker queue: nothing in progress');
my $age_sql = $node->safe_psql('postgres', q{
SELECT extract(epoch FROM clock_timestamp() - visible_at) FROM duroxide.worker_queue});
my $age = value_of($body, 'duroxide_queue_oldest_ready_seconds', queue => 'worker');
ok(defined $age && $age > 0 && $age <= $age_sql,
    "the oldest ready message's age is its wait so far ($age s, $age_sql s when read after)");
is(value_of($body, 'duroxide_queue_oldest_ready_seconds', queue => 'orchestrator'), '0',
    'no ready orchestrator message: age 0');

is(value_of($body, 'duroxide_process_up', role => 'dispatcher', slot => '0', database => 'postgres'),
    '1', 'the dispatcher is up');
is(value_of($body, 'duroxide_process_up', role => 'activity worker', database => 'postgres'),
    '1', 'the activity worker is up');
ok(defined value_of($body, 'duroxide_process_up', role => 'launcher'), 'the launcher is listed');
my $items = $node->safe_psql('postgres',
    "SELECT items_processed FROM duroxide.runtime_status WHERE role = 'activity worker'");
is(value_of($body, 'duroxide_process_items_processed', role => 'activity worker'), $items,
    "the activity worker's items processed ($items)");
like($body, qr/^duroxide_process_state_info\{[^}]*role="dispatcher"[^}]*state="(idle|running)"[^}]*\} 1$/m,
    "the dispatcher's state");
unlike($body, qr/ok-1|slow-retry|tagged/, 'no instance id in the scrape');

# The next scrape follows the store.
$node->safe_psql('postgres', q{
SELECT duroxide.start_orchestration('ok-4', 'HelloWorld', 'N4');
SELECT * FROM duroxide.wait_for_orchestration('ok-4', '30 s');
});
$body = scrape(qr/^duroxide_instance_count\{[^}]*status="Completed"[^}]*\} 4$/m);
is(value_of($body, 'duroxide_instance_count', status => 'Completed'), '4',
    'a fourth completed instance is scraped as 4');

$h->kill_kill;
$node->stop;
done_testing();
