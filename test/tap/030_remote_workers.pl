# Remote activity workers (duroxide-worker): three worker processes beside the in-server workers
# of one server. Tagged "remote" activities run only on the remote workers (the in-server
# workers' filter is 'default'), untagged ones only in-server; every activity's ctx.sql() effect
# is recorded exactly once; a remote worker killed with SIGKILL mid-activity has its activity
# re-run on another worker although the lease is ten minutes long (leases end with the
# connection); a session stays on one remote worker. At the issue's scale, 1000 workflows x 10
# activities (DUROXIDE_REMOTE_WORKFLOWS=40 for a quick run while developing); the times
# measured are reported, never asserted.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $workflows = $ENV{DUROXIDE_REMOTE_WORKFLOWS} // 1000;
my $plugin = "$ENV{DUROXIDE_PLUGIN_DIR}/duroxide_remote_test.so";

my $node = duroxide_node('remote', plugin_dir => 1, conf => q{
duroxide.activity_workers = 2
duroxide.worker_tag_filter = 'default'
});
$node->safe_psql('postgres', q{
SELECT duroxide.register_plugin('duroxide_remote_test');
CREATE SEQUENCE remote_attempts;
CREATE TABLE remote_effects (instance_id text, activity_id bigint, worker text);
CREATE ROLE remote_worker LOGIN IN ROLE duroxide_worker;
GRANT SELECT, INSERT ON remote_effects TO remote_worker;
GRANT USAGE ON SEQUENCE remote_attempts TO remote_worker;
});

my $connstr = $node->connstr('postgres') . ' user=remote_worker';
my %workers; # worker id => pid
sub start_worker {
    my ($id, $tags, $poll) = @_;
    $tags //= 'tags:remote';
    $poll //= '200';
    my $log = "$PostgreSQL::Test::Utils::tmp_check/worker-$id.log";
    # w3 reads its options from a config file (the command line names only the file).
    my @options = ('--connection', $connstr, '--worker-id', $id, '--tags', $tags,
        '--plugin', $plugin, '--concurrency', '2', '--lock-timeout', '600000',
        '--poll-interval', $poll);
    # w1 claims two activities at a time.
    push @options, '--batch', '2' if $id eq 'w1';
    if ($id eq 'w3') {
        my $config = "$PostgreSQL::Test::Utils::tmp_check/worker-$id.conf";
        my %pairs = @options;
        PostgreSQL::Test::Utils::append_to_file($config,
            "# duroxide-worker options\n"
            . join('', map { substr($_, 2) . " = $pairs{$_}\n" } sort keys %pairs));
        @options = ('--config', $config);
    }
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open(STDOUT, '>>', $log) or die;
        open(STDERR, '>&', \*STDOUT) or die;
        exec('duroxide-worker', @options) or die "exec: $!";
    }
    $workers{$id} = $pid;
}

like(`duroxide-worker --help`, qr/--worker-id/, 'duroxide-worker --help lists its options');
start_worker($_) for qw(w1 w2 w3);
ok($node->poll_query_until('postgres',
    "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'duroxide-worker %'", '6'),
    'three remote workers attached with two slots each (w3 from its config file)');
my ($rc, $stdout, $stderr) = $node->psql('postgres',
    "SELECT owner_id FROM duroxide.worker_attach('w1-0')", extra_params => ['-U', 'remote_worker']);
like($stderr, qr/worker id "w1-0" is attached by another live connection/,
    'a second connection cannot attach under a live worker id');

sub wait_all {
    my ($prefix, $count) = @_;
    return $node->poll_query_until('postgres',
        "SELECT count(*) FROM duroxide.instances i, duroxide.get_orchestration_status(i.instance_id) s "
        . "WHERE i.instance_id LIKE '$prefix%' AND s.status IN ('Completed', 'Failed')", $count);
}

# Tagged activities beside untagged ones.
my $started = time;
$node->safe_psql('postgres', join ';',
    (map { "SELECT duroxide.start_orchestration('tagged-$_', 'RemoteFan', '10|RemoteWork|0|remote')" }
        1 .. $workflows),
    (map { "SELECT duroxide.start_orchestration('plain-$_', 'RemoteFan', '10|RemoteSpin|0|')" }
        1 .. 10));
ok(wait_all('tagged-', $workflows), "$workflows workflows of 10 remote activities ended");
diag(sprintf('%d workflows x 10 remote activities: %.1f s', $workflows, time - $started));
ok(wait_all('plain-', 10), '10 workflows of 10 untagged activities ended');
is($node->safe_psql('postgres',
    "SELECT count(*) FROM duroxide.instances i, duroxide.get_orchestration_status(i.instance_id) s "
    . "WHERE s.status <> 'Completed'"), '0',
    'every workflow completed');
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM duroxide.instances i, duroxide.get_orchestration_status(i.instance_id) s
     WHERE i.instance_id LIKE 'tagged-%' AND s.output ~ '(^|;)[^r;]'}), '0',
    'tagged activities ran on remote workers only');
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM duroxide.instances i, duroxide.get_orchestration_status(i.instance_id) s
     WHERE i.instance_id LIKE 'plain-%' AND s.output LIKE '%remote:%'}), '0',
    'untagged activities ran in-server only');
is($node->safe_psql('postgres',
    "SELECT count(DISTINCT worker) FROM remote_effects WHERE worker LIKE 'remote:%'"), '6',
    'every remote slot ran some');
is($node->safe_psql('postgres', q{
    SELECT count(*) || ' ' || count(DISTINCT (instance_id, activity_id)) FROM remote_effects}),
    $workflows * 10 . ' ' . $workflows * 10,
    'each activity\'s ctx.sql() effect recorded exactly once');

# SIGKILL of the remote worker running an activity (inside its transaction, heartbeating).
$node->safe_psql('postgres',
    "SELECT duroxide.start_orchestration('killed', 'RemoteFan', '1|RemoteWork|3000|remote')");
ok($node->poll_query_until('postgres', q{
    SELECT count(*) FROM pg_stat_activity
     WHERE application_name LIKE 'duroxide-worker %' AND state LIKE 'idle in transaction%'}, '1'),
    'the activity runs in a remote worker\'s transaction');
my $victim_slot = $node->safe_psql('postgres', q{
    SELECT substr(application_name, 17) FROM pg_stat_activity
     WHERE application_name LIKE 'duroxide-worker %' AND state LIKE 'idle in transaction%'});
(my $victim = $victim_slot) =~ s/-\d+$//;
my $killed_at = time;
kill 'KILL', $workers{$victim};
waitpid($workers{$victim}, 0);
delete $workers{$victim};
ok($node->poll_query_until('postgres',
    "SELECT count(*) FROM duroxide.worker_queue WHERE instance_id = 'killed' "
    . "AND attempt_count = 2 AND locked_by IS NOT NULL", '1'),
    "the activity of the killed worker ($victim) is claimed again, its lease of 10 min unexpired");
diag(sprintf('killed %s; its activity claimed again after %.3f s', $victim_slot, time - $killed_at));
ok(wait_all('killed', 1), 'the workflow of the killed activity ended');
my ($status, $output) = split /\|/, $node->safe_psql('postgres',
    "SELECT status || '|' || coalesce(output, '') FROM duroxide.get_orchestration_status('killed')");
is($status, 'Completed', 'and completed');
unlike($output, qr/remote:\Q$victim\E-/, 'on another worker');
is($node->safe_psql('postgres',
    "SELECT count(*) FROM remote_effects WHERE instance_id = 'killed'"), '1',
    'the killed attempt\'s ctx.sql() writes are gone, the re-run\'s recorded once');

# Session affinity across the remaining remote workers: each session's activities run on one
# worker, which keeps its session state between them.
my $succeeded = q{SELECT value FROM duroxide.metrics WHERE metric = 'activities_succeeded'};
$node->safe_psql('postgres', 'SELECT duroxide.reset_metrics()');
$node->safe_psql('postgres', join ';',
    map { "SELECT duroxide.start_orchestration('session-$_', 'RemoteFan', '5|RemoteVisit||remote|s$_')" }
        1 .. 4);
ok(wait_all('session-', 4), 'the session workflows ended');
for my $i (1 .. 4) {
    my $out = $node->safe_psql('postgres',
        "SELECT status || ' ' || coalesce(output, '') FROM duroxide.get_orchestration_status('session-$i')");
    like($out, qr/^Completed (remote:w\d-\d)#1;\1#2;\1#3;\1#4;\1#5$/,
        "session s$i stayed on one remote worker, with its state");
}
# Nothing ran in-server since the reset: every activity counted is a remote worker's. (Polled:
# a count is added just after its commit became visible.)
ok($node->poll_query_until('postgres', $succeeded, '20'),
    'duroxide.metrics counts the 20 completions the remote workers recorded');

# A completion counts when the worker's transaction commits: not when it rolls back, nor when
# the savepoint it was recorded in does. A connection of the worker role, by hand, on a tag
# no running worker names.
$node->safe_psql('postgres',
    "SELECT duroxide.start_orchestration('by-hand', 'RemoteFan', '1|RemoteSpin|0|manual')");
ok($node->poll_query_until('postgres',
    "SELECT count(*) = 1 FROM duroxide.worker_queue WHERE instance_id = 'by-hand'"),
    'its activity is queued');
my $by_hand = $node->background_psql('postgres', extra_params => [ '-U', 'remote_worker' ]);
$by_hand->query_safe(q{
SELECT owner_id FROM duroxide.worker_attach('h1');
CREATE TEMP TABLE lease AS SELECT * FROM duroxide.worker_claim('tags:manual', 1, 600000);
CREATE TEMP VIEW completion AS
  SELECT id, lock_token, jsonb_build_object('ActivityCompleted', jsonb_build_object(
           'instance', 'by-hand', 'execution_id', 1,
           'id', (work_item::jsonb->'ActivityExecute'->>'id')::bigint, 'result', 'by hand'))::text AS json
    FROM lease;
});
is($by_hand->query_safe('SELECT count(*) FROM lease'), '1', 'a connection claims the activity by hand');
$by_hand->query_safe(q{
BEGIN;
SELECT duroxide.worker_complete(id, lock_token, json) FROM completion;
ROLLBACK;
});
is($node->safe_psql('postgres', $succeeded), '20', 'a rolled-back completion is not counted');
$by_hand->query_safe(q{
BEGIN;
SAVEPOINT first;
SELECT duroxide.worker_complete(id, lock_token, json) FROM completion;
ROLLBACK TO SAVEPOINT first;
SELECT duroxide.worker_complete(id, lock_token, json) FROM completion;
COMMIT;
});
is($node->safe_psql('postgres', $succeeded), '21',
    'the committed completion is counted once, the one rolled back to its savepoint not');
ok(wait_all('by-hand', 1), 'the workflow completed by hand ended');
$by_hand->quit;

# Wake-ups: a worker that claims again only every ten minutes without a notification runs
# activities enqueued after it went idle (the server's NOTIFY ends its wait).
start_worker('n1', 'tags:notify', '600000');
ok($node->poll_query_until('postgres',
    "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'duroxide-worker n1-%' "
    . "AND state = 'idle' AND query LIKE '%worker_claim%'", '2'),
    'the notified worker is attached, found nothing and waits');
$started = time;
$node->safe_psql('postgres', join ';',
    map { "SELECT duroxide.start_orchestration('notify-$_', 'RemoteFan', '2|RemoteSpin|0|notify')" }
        1 .. 3);
ok(wait_all('notify-', 3), 'its activities ran without polling');
diag(sprintf('3 workflows on the notified worker: %.3f s', time - $started));
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM duroxide.instances i, duroxide.get_orchestration_status(i.instance_id) s
     WHERE i.instance_id LIKE 'notify-%' AND s.output ~ '^remote:n1-\d;remote:n1-\d$'}), '3',
    'on the notified worker');

kill 'TERM', values %workers;
waitpid($_, 0) for values %workers;
ok($node->poll_query_until('postgres',
    "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'duroxide-worker %'", '0'),
    'remote workers stop on SIGTERM');
$node->stop;
done_testing();
