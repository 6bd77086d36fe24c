# Failover to an asynchronous streaming-replication standby (issue 20 item 1): what can be lost.
#
# With asynchronous replication the primary does not wait for the standby, so what it committed
# in the last moments before it died may never reach the standby. To make that loss certain
# rather than a race, the standby is cut off (its primary_conninfo emptied) in the middle of a
# load of SQL workflows whose three SQL steps each write a row; the primary goes on committing
# turns, activity completions and 20 new workflow starts, then is stopped with -m immediate.
# The test checks that
#  - the standby holds a consistent prefix: every step write it has comes with that activity's
#    completion and every completion with its write (they commit in one transaction), and all
#    of it is also on the old primary;
#  - the loss is exactly what the primary committed after the cut (read back from the old
#    primary's own data directory): completed turns and step writes, which run again on the
#    promoted server, and the starts of the 20 late workflows, which are gone (their clients
#    had been told they were started: they must start them again);
#  - after promotion every workflow whose start reached the standby completes, with each
#    history event and each completion once and each step's write exactly once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $n = 200;
my $primary = duroxide_node('async_primary', init => { allows_streaming => 1 }, leases => '1h',
    conf => "duroxide.activity_workers = 2\n");
define_three_writes($primary, 0.02);
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('async_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

$primary->safe_psql('postgres', qq{
SET ROLE wf_runner;
SELECT duroxide.start_workflow('wf-' || i, 'three_writes', to_jsonb('wf-' || i))
  FROM generate_series(1, $n) AS i;
});
my $completed = "SELECT count(*) FROM duroxide.executions WHERE status = 'Completed' AND instance_id LIKE 'wf-%'";
ok($primary->poll_query_until('postgres', "SELECT ($completed) >= 20"), 'workflows complete on the primary');
$primary->wait_for_catchup($standby);

# --- the cut: the standby stops receiving; the primary goes on
$standby->append_conf('postgresql.conf', "primary_conninfo = ''");
$standby->reload;
ok($standby->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pg_stat_wal_receiver'),
    'the standby no longer receives WAL');
# Replayed all it can: the received position can end inside a record whose rest never came, so
# replay never reaches it; the startup process then waits for a source of more WAL.
ok($standby->poll_query_until('postgres', q{
SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
    OR EXISTS (SELECT 1 FROM pg_stat_activity
                WHERE backend_type = 'startup' AND wait_event = 'RecoveryRetrieveRetryInterval')}),
    'the standby replayed what it received');
my $at_cut = $standby->safe_psql('postgres', $completed);
$primary->safe_psql('postgres', q{
SET ROLE wf_runner;
SELECT duroxide.start_workflow('late-' || i, 'three_writes', to_jsonb('late-' || i))
  FROM generate_series(1, 20) AS i;
});
ok($primary->poll_query_until('postgres', "SELECT ($completed) >= $at_cut + 10"),
    "the primary completes workflows the standby never hears of ($at_cut at the cut)");
$primary->stop('immediate');

# What each side holds: step writes (instance/step), activity completions per instance (in
# history or queued for the orchestration), completed workflows, late starts.
my $writes = q{SELECT coalesce(string_agg(instance || '/' || step, ',' ORDER BY instance, step), '')
                 FROM wf_effects};
my $consistent = q{
SELECT count(*) FROM (
    SELECT instance_id, count(*) AS completions FROM (
        SELECT instance_id FROM duroxide.history WHERE event_type = 'ActivityCompleted'
        UNION ALL
        SELECT instance_id FROM duroxide.orchestrator_queue WHERE work_item::jsonb ? 'ActivityCompleted') c
     GROUP BY instance_id) c
  FULL JOIN (SELECT instance AS instance_id, count(*) AS writes FROM wf_effects GROUP BY instance) w
  USING (instance_id)
 WHERE completions IS DISTINCT FROM writes};
my $late = "SELECT count(*) FROM duroxide.instances WHERE instance_id LIKE 'late-%'";

my %standby_writes = map { $_ => 1 } split /,/, $standby->safe_psql('postgres', $writes);
is($standby->safe_psql('postgres', $consistent), '0',
    'standby: every step write has its completion and every completion its write');
is($standby->safe_psql('postgres', $late), '0', 'standby: the late starts never reached it');
my $standby_completed = $standby->safe_psql('postgres', $completed);

# The old primary's own data directory, read after its crash recovery without the library (no
# worker may move anything on): everything it had committed.
$primary->append_conf('postgresql.conf', "shared_preload_libraries = ''");
$primary->start;
my @primary_writes = split /,/, $primary->safe_psql('postgres', $writes);
is($primary->safe_psql('postgres', $consistent), '0',
    'old primary: every step write has its completion and every completion its write');
is($primary->safe_psql('postgres', $late), '20', 'old primary: it had started the 20 late workflows');
my $primary_completed = $primary->safe_psql('postgres', $completed);
$primary->stop('fast');
my @lost = grep { !$standby_writes{$_} } @primary_writes;
is(scalar(keys %standby_writes) + scalar(@lost), scalar(@primary_writes),
    'every step write on the standby is on the old primary (the standby has a prefix)');
cmp_ok(scalar(@lost), '>', 0, scalar(@lost) . ' step writes committed after the cut were lost');
cmp_ok($primary_completed, '>', $standby_completed,
    "completed workflows lost: old primary $primary_completed, standby $standby_completed");

# --- promotion: the lost turns run again, exactly once
$standby->promote;
ok($standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'), 'the standby is promoted');
ok($standby->poll_query_until('postgres', "SELECT ($completed) = $n"),
    "all $n workflows whose start reached the standby complete on the promoted server");
is($standby->safe_psql('postgres', q{
SELECT count(*) FROM (
    SELECT instance_id FROM duroxide.history WHERE instance_id LIKE 'wf-%'
     GROUP BY instance_id, execution_id
    HAVING count(*) <> 8 OR count(DISTINCT event_id) <> 8 OR max(event_id) <> 8
        OR count(*) FILTER (WHERE event_type = 'ActivityCompleted') <> 3
        OR count(DISTINCT (event_data::jsonb ->> 'source_event_id'))
               FILTER (WHERE event_type = 'ActivityCompleted') <> 3) bad
}), '0', 'each history holds events 1..8 once and each activity completion once');
is($standby->safe_psql('postgres',
        'SELECT count(*) || \' \' || count(DISTINCT (instance, step)) FROM wf_effects'),
    (3 * $n) . ' ' . (3 * $n), 'each step\'s write exists exactly once, the lost ones written again');
my %final = map { $_ => 1 } split /,/, $standby->safe_psql('postgres', $writes);
my @lost_wf = grep { /^wf-/ } @lost;
is(scalar(grep { !$final{$_} } @lost_wf), 0,
    'every lost write of a workflow whose start reached the standby was made again ('
  . scalar(@lost_wf) . ')');
is($standby->safe_psql('postgres', $late), '0',
    'the late workflows do not exist on the promoted server (their clients must start them again)');

$standby->stop('fast');
unlike(slurp_file($standby->logfile), qr/PANIC|was terminated by signal/, 'no crash in the standby\'s log');
done_testing();
