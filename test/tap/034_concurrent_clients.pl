# Concurrent clients waiting (issue 21): a commit that changes an instance wakes the clients
# waiting for that instance, not every client waiting in the database. Four sessions sleep in
# wait_for_orchestration on four instances that wait for a message; twenty other instances
# run to completion meanwhile, and no waiter is woken (duroxide.metrics
# status_waiter_wake_ups counts the waiters a commit woke). Before, every status change woke
# every waiter: 4 waiters x every completing commit. Then each waited-for instance is
# completed and its own waiter, and only it, returns.
#
# Nothing sleeps before asserting: each step polls for its condition with the suite's
# deadline (poll_query_until, query_until).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('concurrent_clients');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'duroxide'
duroxide.orchestration_dispatchers = 1
duroxide.activity_workers = 1
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION duroxide');

my $wake_ups = q{SELECT value FROM duroxide.metrics WHERE metric = 'status_waiter_wake_ups'};
my @waited = map { "w-$_" } 1 .. 4;

# Four instances that wait for a message on queue "q" (a SQL workflow: no plugin needed).
for my $id (@waited) {
    $node->safe_psql('postgres',
        qq{SELECT duroxide.start_workflow_definition('$id', '{"kind": "dequeue", "queue": "q"}')});
}
ok($node->poll_query_until('postgres', q{
    SELECT count(*) = 4 FROM unnest(ARRAY['w-1', 'w-2', 'w-3', 'w-4']) AS w(id),
           duroxide.get_orchestration_status(w.id) s WHERE s.status = 'Running'}),
    'the four waited-for instances run and wait for their message');

# One client session per instance, each sleeping in its wait.
my %session;
for my $id (@waited) {
    $session{$id} = $node->background_psql('postgres');
    $session{$id}->query_until(qr/waiting/, qq{SET application_name = 'waiter $id';
\\echo waiting
SELECT 'result:' || status || ':' || output FROM duroxide.wait_for_orchestration('$id', '5 min');
});
}
ok($node->poll_query_until('postgres', q{
    SELECT count(*) = 4 FROM pg_stat_activity
     WHERE application_name LIKE 'waiter w-%' AND state = 'active' AND wait_event = 'Extension'}),
    'the four clients sleep in their waits');
$node->safe_psql('postgres', 'SELECT duroxide.reset_metrics()');

# Twenty other instances run to completion; this session polls their status (it does not wait).
$node->safe_psql('postgres', q{
    SELECT duroxide.start_workflow_definition('other-' || i, '{"kind": "return", "value": "x"}')
      FROM generate_series(1, 20) AS i});
ok($node->poll_query_until('postgres', q{
    SELECT count(*) = 20 FROM generate_series(1, 20) AS i,
           duroxide.get_orchestration_status('other-' || i) s WHERE s.status = 'Completed'}),
    'twenty other instances completed while the clients waited');
is($node->safe_psql('postgres', $wake_ups), '0',
    'no client waiting for another instance was woken by their commits');
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM pg_stat_activity
     WHERE application_name LIKE 'waiter w-%' AND state = 'active'}),
    '4', 'the four clients are still waiting');

# Each waited-for instance gets its message and completes: its own client returns with it,
# the others keep waiting.
my $left = 4;
for my $id (@waited) {
    $node->safe_psql('postgres', "SELECT duroxide.enqueue_event('$id', 'q', '\"done $id\"')");
    my $out = $session{$id}->query_until(qr/result:.*\n/, '');
    like($out, qr/result:Completed:.*done \Q$id\E/, "the client of $id returns with its output");
    $left--;
    is($node->safe_psql('postgres', q{
        SELECT count(*) FROM pg_stat_activity
         WHERE application_name LIKE 'waiter w-%' AND state = 'active'
           AND query LIKE '%wait_for_orchestration%'}),
        "$left", "the other clients still wait after $id completed");
}
# Woken: the client of each completed instance (at most once each; one may have been between
# two sleeps, re-reading its status, when its instance completed), never the others.
my $woken = $node->safe_psql('postgres', $wake_ups);
ok($woken >= 1 && $woken <= 4, "each completion woke its own client only ($woken wake-ups)");

$_->quit for values %session;
$node->stop;
done_testing();
