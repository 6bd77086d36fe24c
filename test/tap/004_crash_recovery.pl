# Nothing is lost when the server crashes or a worker dies: (a) an immediate stop in the middle
# of 200 running instances, (b) an activity worker killed mid-activity, by SIGKILL (the server
# reinitializes) and by SIGTERM (only that process dies: its lease must be free at once, long
# before duroxide.worker_lock_timeout), (c) DROP EXTENSION with work in flight.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = duroxide_node('crash', plugins => ['duroxide_sample'], leases => '1h', conf => q{
duroxide.activity_workers = 2
restart_after_crash = on
});

# --- (a) immediate stop in the middle of 200 instances. Each runs one SQL activity that
# writes a row and takes a little while, so the stop lands mid-run.
$node->safe_psql('postgres', q{
CREATE TABLE crash_effects (input text);
CREATE FUNCTION record_slowly(input text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO crash_effects VALUES (input);
    PERFORM pg_sleep(0.02);
    RETURN 'recorded ' || input;
END
$$;
SELECT duroxide.register_sql_activity('RecordSlowly', 'record_slowly(text)');
SELECT duroxide.start_orchestration('crash-' || i, 'CallActivity', 'RecordSlowly:W' || i)
  FROM generate_series(1, 200) AS i;
});
my $completed = "SELECT count(*) FROM generate_series(1, 200) AS i, "
  . "LATERAL duroxide.get_orchestration_status('crash-' || i) s WHERE s.status = 'Completed'";
ok($node->poll_query_until('postgres', "SELECT ($completed) >= 10"), 'instances are running');
my $before = $node->safe_psql('postgres', $completed);
$node->stop('immediate');
cmp_ok($before, '<', 200, "stopped in the middle ($before of 200 complete)");
$node->start;
ok($node->poll_query_until('postgres', "SELECT ($completed) = 200"),
    'all 200 instances complete after restart');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM generate_series(1, 200) AS i,
       LATERAL duroxide.get_orchestration_status('crash-' || i) s
 WHERE s.output = 'recorded W' || i
}), '200', 'every output is correct');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM (
    SELECT instance_id FROM duroxide.history WHERE instance_id LIKE 'crash-%'
     GROUP BY instance_id, execution_id
    HAVING count(*) <> 4 OR count(DISTINCT event_id) <> 4 OR min(event_id) <> 1
        OR max(event_id) <> 4) bad
}), '0', 'each history holds events 1..4 exactly once');
is($node->safe_psql('postgres',
        'SELECT count(*) || \' \' || count(DISTINCT input) FROM crash_effects'),
    '200 200', 'each activity\'s write committed exactly once');
is($node->safe_psql('postgres',
        'SELECT (SELECT count(*) FROM duroxide.orchestrator_queue) + '
      . '(SELECT count(*) FROM duroxide.worker_queue) + '
      . '(SELECT count(*) FROM duroxide.instance_locks)'),
    '0', 'queues and locks are empty');

# --- (b) an activity worker dies in the middle of an activity
$node->safe_psql('postgres', q{
CREATE TABLE effects (instance text, run bigint);
CREATE SEQUENCE runs;
CREATE FUNCTION sleepy(instance text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    run bigint := nextval('runs');
BEGIN
    INSERT INTO effects VALUES (instance, run);
    IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'woke_up') THEN
        PERFORM pg_sleep(600);  -- until killed
    END IF;
    RETURN 'done ' || instance;
END
$$;
SELECT duroxide.register_sql_activity('Sleepy', 'sleepy(text)');
});
my $sleeper = "SELECT pid FROM pg_stat_activity WHERE query = 'duroxide: activity Sleepy'";

for my $signal ('KILL', 'TERM') {
    my $instance = "killed-$signal";
    $node->safe_psql('postgres', "DROP TABLE IF EXISTS woke_up");
    $node->safe_psql('postgres',
        "SELECT duroxide.start_orchestration('$instance', 'CallActivity', 'Sleepy:$instance')");
    ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM ($sleeper) s"),
        "SIG$signal: the activity is running");
    my $pid = $node->safe_psql('postgres', $sleeper);
    # The next run completes at once: the activity is redelivered, not waited for (the
    # lease is one hour).
    $node->safe_psql('postgres', 'CREATE TABLE woke_up ()');
    kill $signal, $pid;
    ok($node->poll_query_until('postgres',
            "SELECT status = 'Completed' FROM duroxide.get_orchestration_status('$instance')"),
        "SIG$signal: the instance completes after the worker died");
    is($node->safe_psql('postgres',
            "SELECT count(*) || ' ' || min(instance) FROM effects WHERE instance = '$instance'"),
        "1 $instance", "SIG$signal: the activity's write committed once");
    is($node->safe_psql('postgres',
            "SELECT output FROM duroxide.get_orchestration_status('$instance')"),
        "done $instance", "SIG$signal: with the right output");
}

# --- (c) DROP EXTENSION with work in flight leaves no worker running
$node->safe_psql('postgres', q{
SELECT duroxide.start_orchestration('inflight-' || i, 'FanOut', 'a,b,c,d')
  FROM generate_series(1, 50) AS i;
});
ok($node->poll_query_until('postgres',
        "SELECT count(*) > 0 FROM duroxide.history WHERE instance_id LIKE 'inflight-%'"),
    'work is in flight');
$node->safe_psql('postgres', 'DROP EXTENSION duroxide CASCADE');
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 0 FROM pg_stat_activity "
      . "WHERE backend_type IN ('duroxide dispatcher', 'duroxide activity worker')"),
    'no worker runs after DROP EXTENSION');
is($node->safe_psql('postgres', "SELECT to_regclass('duroxide.worker_queue') IS NULL"),
    't', 'the store is gone');
$node->safe_psql('postgres', 'CREATE EXTENSION duroxide');
$node->safe_psql('postgres', "SELECT duroxide.register_plugin('duroxide_sample')");
$node->safe_psql('postgres', "SELECT duroxide.start_orchestration('again', 'HelloWorld', 'again')");
ok($node->poll_query_until('postgres',
        "SELECT status = 'Completed' FROM duroxide.get_orchestration_status('again')"),
    'a new CREATE EXTENSION runs orchestrations again');

$node->stop('fast');
unlike(slurp_file($node->logfile), qr/PANIC|was terminated by signal 11/, 'no crash in the log');
done_testing();
