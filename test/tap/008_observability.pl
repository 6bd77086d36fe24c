# duroxide.metrics and duroxide.runtime_status follow a workload: after a reset, the counters
# equal what the workload did (counts, never timings), and the workers' items processed grow.
# Also: a forced delete withdraws a running activity; list_instances pages stay consistent
# while instances are being created concurrently.
use strict;
use warnings;
use IPC::Run;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = duroxide_node('observability', plugins => ['duroxide_sample'], conf => q{
duroxide.orchestration_dispatchers = 1
duroxide.activity_workers = 2
duroxide.poll_interval = '200ms'
duroxide.max_attempts = 3
duroxide.unregistered_backoff = '10ms'
# Every turn on the dispatcher, so that the resident cache counts and the dispatcher's items
# below are exact (033_inline_turns.pl covers the turns activity workers run inline).
duroxide.inline_turns = off
});
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 3 FROM duroxide.runtime_status "
      . "WHERE role IN ('dispatcher', 'activity worker') AND state IN ('idle', 'running')"),
    'the dispatcher and both activity workers are up');

my $processed = "SELECT coalesce(sum(items_processed) FILTER (WHERE role = 'dispatcher'), 0) "
  . "|| ' ' || coalesce(sum(items_processed) FILTER (WHERE role = 'activity worker'), 0) "
  . "FROM duroxide.runtime_status";
my ($dispatched_before, $activities_before) = split / /, $node->safe_psql('postgres', $processed);

$node->safe_psql('postgres', 'SELECT duroxide.reset_metrics()');
my $counters = "SELECT string_agg(metric || '=' || value, ' ' ORDER BY metric) FROM duroxide.metrics "
  . "WHERE metric NOT IN ('wake_ups', 'safety_net_polls') AND metric NOT LIKE '%\\_us\\_%'";
is($node->safe_psql('postgres', "SELECT count(*) FROM duroxide.metrics WHERE value <> 0 "
          . "AND metric NOT IN ('wake_ups', 'safety_net_polls')"),
    '0', 'after the reset every counter and bucket is zero');

# The workload:
#   5 HelloWorld: 3 turns each (start, two activity results), 2 activities, completed;
#   2 Unhandled: 2 turns each, its activity fails (application error), the orchestration fails;
#   1 poisoned batch: its start message was fetched too often; 1 turn, fails as poison;
#   1 unknown activity: retried, then poisoned; 2 turns, the orchestration fails as poison;
#   1 WaitForGo cancelled while it waits: 2 turns, fails (Cancelled is an application error).
$node->safe_psql('postgres', q{
SELECT duroxide.start_orchestration('obs-ok-' || i, 'HelloWorld', 'N' || i) FROM generate_series(1, 5) i;
SELECT duroxide.start_orchestration('obs-fail-' || i, 'Unhandled', 'broken ' || i) FROM generate_series(1, 2) i;
SELECT duroxide.start_orchestration('obs-unknown-activity', 'CallActivity', 'NoSuchActivity:x');
SELECT duroxide.start_orchestration('obs-cancel', 'WaitForGo', '');
BEGIN;
SELECT duroxide.start_orchestration('obs-poison', 'HelloWorld', 'never');
UPDATE duroxide.orchestrator_queue SET attempt_count = 3 WHERE instance_id = 'obs-poison';
COMMIT;
});
ok($node->poll_query_until('postgres',
        "SELECT count(*) > 0 FROM duroxide.history WHERE instance_id = 'obs-cancel' "
      . "AND event_type = 'ExternalSubscribed'"),
    'the instance to cancel waits for its event');
$node->safe_psql('postgres', "SELECT duroxide.cancel_instance('obs-cancel', 'enough')");
is($node->safe_psql('postgres', q{
SELECT string_agg(w.status || CASE WHEN w.status = 'Failed'
                                   THEN ':' || (w.error->'Poison' IS NOT NULL)::text ELSE '' END,
                  ',' ORDER BY id)
  FROM unnest(ARRAY['obs-ok-1', 'obs-ok-2', 'obs-ok-3', 'obs-ok-4', 'obs-ok-5', 'obs-fail-1',
                    'obs-fail-2', 'obs-poison', 'obs-unknown-activity', 'obs-cancel']) AS id,
       LATERAL duroxide.wait_for_orchestration(id, '60 s') w}),
    'Failed:false,Failed:false,Failed:false,Completed,Completed,Completed,Completed,Completed,'
  . 'Failed:true,Failed:true',
    'the workload ended as planned (ordered by instance id)');

my %metric = map { split /=/ } split / /, $node->safe_psql('postgres', $counters);
diag($node->safe_psql('postgres', $counters));
is($metric{orchestrations_started}, 10, 'orchestrations started: every instance once');
is($metric{orchestrations_completed}, 5, 'orchestrations completed: the HelloWorlds');
is($metric{orchestrations_failed_application}, 3, 'failed (application): 2 unhandled + 1 cancelled');
is($metric{orchestrations_failed_poison}, 2, 'failed (poison): the batch and the unknown activity');
is($metric{orchestrations_failed_infrastructure}, 0, 'failed (infrastructure): none');
is($metric{orchestrations_failed_configuration}, 0, 'failed (configuration): none');
is($metric{orchestrations_continued_as_new}, 0, 'continued as new: none');
is($metric{orchestration_turns}, 5 * 3 + 2 * 2 + 1 + 2 + 2, 'turns: one per recorded turn');
is($metric{activities_succeeded}, 10, 'activities succeeded: two per HelloWorld');
is($metric{activities_failed_application}, 2, 'activities failed (application): the Fail calls');
is($metric{activities_poisoned}, 1, 'activities poisoned: the unknown activity');
is($metric{activities_cancelled}, 0, 'activities cancelled: none was in flight');
is($metric{activities_failed_infrastructure}, 0, 'activities failed (infrastructure): none');
is($metric{lock_steals}, 0, 'no lease was lost');
# Every turn after the first of a running instance resumes its resident execution: 2 per
# HelloWorld, 1 per Unhandled, 1 for the unknown activity's failure, 1 for the cancel.
is($metric{resident_cache_hits}, 5 * 2 + 2 + 1 + 1, 'resident cache hits');
is($metric{resident_cache_misses}, 0, 'no resident execution had to be replayed');
is($node->safe_psql('postgres',
        "SELECT value FROM duroxide.metrics WHERE metric = 'turn_duration_us_count'"),
    $metric{orchestration_turns}, 'the turn histogram has one observation per turn');
is($node->safe_psql('postgres',
        "SELECT value FROM duroxide.metrics WHERE metric = 'activity_duration_us_count'"),
    12, 'the activity histogram has one observation per activity that ran (not the poisoned one)');

my ($dispatched_after, $activities_after) = split / /, $node->safe_psql('postgres', $processed);
cmp_ok($dispatched_after - $dispatched_before, '>=', $metric{orchestration_turns},
    'runtime_status: the dispatcher processed at least one item per turn');
cmp_ok($activities_after - $activities_before, '>=', 13,
    'runtime_status: the activity workers processed at least one item per activity');
is($node->safe_psql('postgres',
        "SELECT string_agg(role || ':' || (last_error IS NULL)::text, ',' ORDER BY role, slot) "
      . "FROM duroxide.runtime_status WHERE role <> 'launcher'"),
    'activity worker:true,activity worker:true,dispatcher:true',
    'runtime_status: the workers, without errors');

# While an activity runs, runtime_status shows it as the worker's current work. A forced delete
# of its instance withdraws it: its completion and its writes are discarded (a lost lease),
# and the instance is not recreated.
$node->safe_psql('postgres', q{
CREATE TABLE public.effects (v text);
CREATE FUNCTION public.slow_write(v text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.effects VALUES (v);
    PERFORM pg_sleep(2);
    RETURN v;
END
$$;
SELECT duroxide.register_sql_activity('SlowWrite', 'public.slow_write(text)');
SELECT duroxide.reset_metrics();
SELECT duroxide.start_orchestration('obs-force', 'CallActivity', 'SlowWrite:w');
});
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 1 FROM duroxide.runtime_status WHERE role = 'activity worker' "
      . "AND state = 'running' AND current_work LIKE 'activity SlowWrite #% of obs-force%'"),
    'runtime_status shows the running activity as current work');
my (undef, undef, $refused) = $node->psql('postgres',
    "SELECT * FROM duroxide.delete_instance('obs-force')");
like($refused, qr/instance "obs-force" is still running/, 'a running instance is not deleted without force');
like($node->safe_psql('postgres',
        "SELECT instances || ' ' || executions FROM duroxide.delete_instance('obs-force', force => true)"),
    qr/^1 1$/, 'the forced delete removes it');
ok($node->poll_query_until('postgres',
        "SELECT value = 1 FROM duroxide.metrics WHERE metric = 'lock_steals'"),
    "the activity's completion is discarded as a lost lease");
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 0 FROM duroxide.runtime_status WHERE current_work LIKE '%obs-force%'"),
    'no worker runs it any more');
is($node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM public.effects) || ' ' ||
       (SELECT count(*) FROM duroxide.instances WHERE instance_id = 'obs-force') || ' ' ||
       (SELECT count(*) FROM duroxide.orchestrator_queue WHERE instance_id = 'obs-force') || ' ' ||
       (SELECT count(*) FROM duroxide.worker_queue WHERE instance_id = 'obs-force') || ' ' ||
       (SELECT value FROM duroxide.metrics WHERE metric = 'activities_succeeded')}),
    '0 0 0 0 0', "its writes rolled back, nothing of the instance is left, nothing counted as done");

# Paging with a cursor while other sessions create instances: no instance comes twice, and every
# instance that existed before paging began comes once.
$node->safe_psql('postgres', 'SELECT duroxide.reset_metrics()');
my $before = $node->safe_psql('postgres',
    "SELECT string_agg(instance_id, ',' ORDER BY instance_id) FROM duroxide.list_instances(max_rows => 10000)");
my ($loader_out, $loader_err) = ('', '');
my $loader = IPC::Run::start(
    [ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c', q{
DO $$
BEGIN
    FOR i IN 1..40 LOOP
        PERFORM duroxide.start_orchestration('obs-page-' || lpad(i::text, 2, '0'), 'HelloWorld', 'p');
        COMMIT;
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$} ],
    '>', \$loader_out, '2>', \$loader_err);
my (%seen, $cursor);
my ($duplicates, $pages) = (0, 0);
while (1) {
    my $after = defined $cursor ? "after_cursor => '$cursor'" : 'after_cursor => NULL';
    my $page = $node->safe_psql('postgres',
        "SELECT instance_id || ' ' || next_cursor FROM duroxide.list_instances(max_rows => 3, $after)");
    last if $page eq '';
    $pages++;
    for my $line (split /\n/, $page) {
        my ($id, $next) = split / /, $line, 2;
        $duplicates++ if $seen{$id}++;
        $cursor = $next;
    }
    select(undef, undef, undef, 0.02);
}
$loader->finish;
is($loader_err, '', 'the concurrent session started its instances');
is($duplicates, 0, "no instance came twice in $pages pages");
is(scalar(grep { !$seen{$_} } split /,/, $before), 0, 'every instance of before paging came');
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 40 FROM duroxide.list_instances(name => 'HelloWorld', status => 'Completed') "
      . "WHERE instance_id LIKE 'obs-page-%'"),
    'the concurrently started instances completed');
my @all = split /\n/, $node->safe_psql('postgres',
    "SELECT instance_id FROM duroxide.list_instances(max_rows => 10000)");
my %distinct = map { $_ => 1 } @all;
is(scalar(@all) . ' ' . scalar(keys %distinct), (10 + 40) . ' ' . (10 + 40),
    'afterwards one listing has the 10 earlier and the 40 new instances, each once');
is($node->safe_psql('postgres',
        "SELECT value FROM duroxide.metrics WHERE metric = 'orchestrations_started'"),
    '40', 'the metrics counted the 40 new starts');

$node->stop;
done_testing();
