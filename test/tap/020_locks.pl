# Locks held by other sessions never stall the runtime (issue 18, defects 3 and 4):
# - an instance row locked by an outside session (an operator's SELECT ... FOR UPDATE) holds
#   back only that instance: the dispatcher records the rest of its batch and runs the locked
#   instance's turn again once the row is free;
# - a client blocked in wait_for_orchestration holds no lock while it sleeps, so DROP EXTENSION
#   in another session does not wait for the wait's timeout, and while a drop holds the
#   extension gate the workers back off instead of queueing behind it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = duroxide_node('locks', plugins => ['duroxide_sample'], conf => q{
duroxide.activity_workers = 1
duroxide.dispatch_batch = 16
duroxide.poll_interval = '200ms'
});

sub running {
    my ($id) = @_;
    return $node->poll_query_until('postgres',
        "SELECT status = 'Running' AND execution_id = 1 FROM duroxide.get_orchestration_status('$id')");
}

# --- Defect 4: one locked instance row.
$node->safe_psql('postgres', "SELECT duroxide.start_orchestration('a', 'WaitForGo', '')");
ok(running('a'), 'instance a waits for its event');
my $locker = $node->background_psql('postgres');
$locker->query_safe(
    "BEGIN; SELECT instance_id FROM duroxide.instances WHERE instance_id = 'a' FOR UPDATE;");
my $log_offset = -s $node->logfile;
# The event for a and ten new instances in one transaction: one fetch takes them together.
$node->safe_psql('postgres', 'BEGIN; '
    . "SELECT duroxide.raise_event('a', 'Go', 'x'); "
    . join('; ', map { "SELECT duroxide.start_orchestration('b$_', 'HelloWorld', 'b$_')" } 1 .. 10)
    . '; COMMIT');
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM generate_series(1, 10) i,
           LATERAL duroxide.wait_for_orchestration('b' || i, '60 s') w
     WHERE w.status = 'Completed' AND w.output = 'Hello, b' || i || '!'}),
    '10', 'the other instances complete while the row of a is locked');
$node->wait_for_log(qr/the row of instance "a" is locked by another transaction/, $log_offset);
pass('the turn of a was given back, not waited for');
is($node->safe_psql('postgres',
        "SELECT status || '/' || (SELECT count(*) FROM duroxide.read_history('a')) "
      . "FROM duroxide.get_orchestration_status('a')"),
    'Running/3', 'a has recorded nothing past its first turn meanwhile');
$locker->query_safe('COMMIT');
is($node->safe_psql('postgres',
        "SELECT status || ':' || output FROM duroxide.wait_for_orchestration('a', '60 s')"),
    'Completed:event:x', 'a completes with its event once the row is free');
$locker->quit;

# --- Defect 3: a pending wait and DROP EXTENSION.
$node->safe_psql('postgres', "SELECT duroxide.start_orchestration('w', 'WaitForGo', '')");
ok(running('w'), 'instance w waits for its event');
my $waiter = $node->background_psql('postgres', on_error_stop => 0);
$waiter->query_until(qr/waiting/, q{SET application_name = 'waiter';
\echo waiting
SELECT status FROM duroxide.wait_for_orchestration('w', '60 s');
});
ok($node->poll_query_until('postgres', q{
    SELECT count(*) = 1 FROM pg_stat_activity
     WHERE application_name = 'waiter' AND state = 'active' AND wait_event = 'Extension'}),
    'the client sleeps in its wait');
$log_offset = -s $node->logfile;
my $dropper = $node->background_psql('postgres');
# The drop returns, and is not committed yet: the waiter is still inside its call (it cannot
# see the drop, and its next read waits for the drop's locks).
$dropper->query_safe('BEGIN; DROP EXTENSION duroxide CASCADE;');
is($dropper->query_safe(q{
    SELECT count(*) FROM pg_stat_activity
     WHERE application_name = 'waiter' AND state = 'active'
       AND query LIKE '%wait_for_orchestration%'}),
    '1', 'DROP EXTENSION finished while the wait is still pending');
# While the drop holds the extension gate, the workers look for work (poll interval) and back
# off: none of them sits in a lock queue.
$node->wait_for_log(qr/DROP EXTENSION in progress/, $log_offset);
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM pg_stat_activity
     WHERE backend_type IN ('duroxide dispatcher', 'duroxide activity worker')
       AND wait_event_type = 'Lock'}),
    '0', 'no worker waits for a lock behind the drop');
$dropper->query_safe('COMMIT');
$dropper->quit;
ok($node->poll_query_until('postgres', q{
    SELECT count(*) = 0 FROM pg_stat_activity
     WHERE backend_type IN ('duroxide dispatcher', 'duroxide activity worker')}),
    'the workers leave after the drop');
$waiter->quit;
unlike(slurp_file($node->logfile), qr/PANIC|was terminated by signal/, 'no crash in the log');
done_testing();
