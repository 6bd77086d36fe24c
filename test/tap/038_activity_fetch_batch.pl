# Activity workers that lease several activities with one fetch statement
# (duroxide.activity_fetch_batch): (a) one fetch leases a whole queued batch, and when the
# worker dies with that batch fetched and not recorded, every activity of it is redelivered and
# runs to completion once; (b) batched fetches keep session affinity and max_sessions_per_worker
# (three sessions on three workers at one session each, never all of them on the worker whose
# batch met them first); (c) fetched activities behind a long plugin activity go back to the
# queue at its first suspension point, for the other workers. The statement counts come from pg_stat_statements, never from timing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('fetch_batch');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'duroxide,pg_stat_statements'
pg_stat_statements.track = all
duroxide.plugin_directories = '$ENV{DUROXIDE_PLUGIN_DIR}'
duroxide.activity_workers = 1
duroxide.activity_fetch_batch = 8
duroxide.activity_batch = 8
duroxide.worker_lock_timeout = '1h'
duroxide.worker_tag_filter = 'none'
max_worker_processes = 16
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION duroxide;
CREATE EXTENSION pg_stat_statements;
SELECT duroxide.register_plugin('duroxide_sample');
CREATE TABLE effects (instance text);
CREATE FUNCTION sleepy(instance text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO effects VALUES (instance);
    IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'woke_up') THEN
        PERFORM pg_sleep(600);  -- until killed
    END IF;
    RETURN 'done ' || instance;
END
$$;
SELECT duroxide.register_sql_activity('Sleepy', 'sleepy(text)');
SELECT duroxide.start_orchestration('batch-' || i, 'CallActivity', 'Sleepy:batch-' || i)
  FROM generate_series(1, 8) AS i;
});

# --- (a) The worker runs no activity until all eight are queued (tag filter none), then one
# fetch statement leases all of them.
ok($node->poll_query_until('postgres', 'SELECT count(*) = 8 FROM duroxide.worker_queue'),
    'eight activities are queued');
$node->safe_psql('postgres', q{
SELECT pg_stat_statements_reset();
ALTER SYSTEM SET duroxide.worker_tag_filter = 'default';
SELECT pg_reload_conf();
});
my $recording = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'duroxide activity worker' "
  . "AND wait_event = 'PgSleep'";
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM ($recording) r"),
    'the worker records the batch (its first SQL activity sleeps)');
my $pid = $node->safe_psql('postgres', $recording);
is($node->safe_psql('postgres',
        "SELECT count(*) FROM duroxide.worker_queue WHERE lock_token IS NOT NULL"),
    '8', 'all eight are leased');
is($node->safe_psql('postgres', q{
SELECT sum(calls) || ' ' || sum(rows) FROM pg_stat_statements
 WHERE query LIKE 'WITH picked AS%' AND query LIKE '%duroxide.worker_queue%'
}), '1 8', 'by one fetch statement that returned eight rows');

# The worker dies with the whole batch fetched and nothing recorded: every activity of it is
# redelivered at once (the lease is one hour) and its write commits exactly once.
$node->safe_psql('postgres', 'CREATE TABLE woke_up ()');
kill 'TERM', $pid;
my $completed = "SELECT count(*) FROM generate_series(1, 8) AS i, "
  . "LATERAL duroxide.get_orchestration_status('batch-' || i) s WHERE s.status = 'Completed'";
ok($node->poll_query_until('postgres', "SELECT ($completed) = 8"),
    'all eight instances complete after the worker died');
is($node->safe_psql('postgres',
        "SELECT count(*) || ' ' || count(DISTINCT instance) FROM effects"),
    '8 8', "each activity's write committed once");
is($node->safe_psql('postgres', q{
SELECT count(*) FROM generate_series(1, 8) AS i,
       LATERAL duroxide.get_orchestration_status('batch-' || i) s
 WHERE s.output = 'done batch-' || i
}), '8', 'with the right outputs');
is($node->safe_psql('postgres', 'SELECT count(*) FROM duroxide.worker_queue'), '0',
    'the worker queue is empty');

# --- (b) Sessions: three workers at one session each, batches of eight.
$node->safe_psql('postgres', q{
ALTER SYSTEM SET duroxide.activity_workers = 3;
ALTER SYSTEM SET duroxide.max_sessions_per_worker = 1;
ALTER SYSTEM SET duroxide.worker_node_id = 'node-b';
});
$node->restart;
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 3 FROM duroxide.runtime_status "
      . "WHERE role = 'activity worker' AND pid IS NOT NULL AND state IN ('idle', 'running')"),
    'three activity workers run');
$node->safe_psql('postgres',
    "SELECT duroxide.start_orchestration('fan', 'SessionFanOut', 'S1,S2,S3:3')");
my $output = $node->safe_psql('postgres',
    "SELECT status || ' ' || coalesce(output, error::text) "
  . "FROM duroxide.wait_for_orchestration('fan', '60 s')");
ok($output =~ s/^Completed //, 'the session fan-out completes') or diag($output);
my @visits = map { [split /\|/] } split /;/, $output;
my @names = map { ("S$_") x 3 } 1 .. 3;
my %by_session;
push @{ $by_session{ $names[$_] } }, $visits[$_] for 0 .. $#visits;
my %owner_of;
foreach my $session (sort keys %by_session) {
    my %workers = map { $_->[0] => 1 } @{ $by_session{$session} };
    is(scalar(keys %workers), 1, "$session ran on one worker");
    is(join(',', sort map { $_->[2] } @{ $by_session{$session} }), '1,2,3',
        "$session kept its state");
    $owner_of{$session} = (keys %workers)[0];
}
is(scalar(keys %{{ reverse %owner_of }}), 3,
    'three sessions on three workers: no batch claimed more than max_sessions_per_worker');

# --- (c) A worker does not sit on fetched activities behind a long one: four long plugin
# activities queued at once go to one worker's batch, and at the first one's first suspension
# point (ctx.is_cancelled()) the three not started go back to the queue for the idle workers,
# so three workers end up running one each (without the give-back the first worker would hold
# all four leases until its first activity ends, ten minutes later).
$node->safe_psql('postgres', q{
ALTER SYSTEM SET duroxide.worker_tag_filter = 'none';
SELECT pg_reload_conf();
});
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 0 FROM duroxide.runtime_status WHERE role = 'activity worker' "
      . "AND tag_filter IS DISTINCT FROM 'none'"),
    'the workers take no activity');
$node->safe_psql('postgres', q{
SELECT duroxide.start_orchestration('long-' || i, 'CallActivity', 'HeartbeatFor:600000')
  FROM generate_series(1, 4) AS i;
});
ok($node->poll_query_until('postgres', 'SELECT count(*) = 4 FROM duroxide.worker_queue'),
    'four long activities are queued');
$node->safe_psql('postgres', q{
ALTER SYSTEM SET duroxide.worker_tag_filter = 'default';
SELECT pg_reload_conf();
});
ok($node->poll_query_until('postgres',
        "SELECT count(DISTINCT locked_by) = 3 FROM duroxide.worker_queue WHERE lock_token IS NOT NULL"),
    'three workers run one each: the first worker gave back what it had not started');
is($node->safe_psql('postgres', 'SELECT max(attempt_count) FROM duroxide.worker_queue'), '1',
    'a give-back does not count an attempt');

$node->stop('fast');
unlike(slurp_file($node->logfile), qr/PANIC|was terminated by signal 11/, 'no crash in the log');
done_testing();
