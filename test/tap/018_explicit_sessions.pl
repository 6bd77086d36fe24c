# Explicit activity sessions (issue 19) on four activity workers, with the sample plugin's
# orchestrations (test/plugins/sample/sample_sessions.cpp). Affinity is read from what the
# activities report ("<worker id>|<pid>|<visit number of the session on that worker>"), never
# from timing: affinity across turns, the plugin guide's rehydrating cache, one session id in
# two instances, continue-as-new carry, terminal cleanup, a session that is not open, close
# during a running activity (cancelled), a lost session cancelling its running activity, a
# late completion (discarded), graceful release
# (SIGTERM) reclaimed without waiting for the lease, a crashed owner, and 1 000 open/close
# cycles that leave nothing behind.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

# Leases that outlast the test: a session leaves its worker only when closed or released.
my $node = duroxide_node('explicit_sessions', plugins => ['duroxide_sample'], conf => q{
duroxide.activity_workers = 4
duroxide.worker_node_id = 'node-x'
duroxide.worker_lock_timeout = '2s'
duroxide.session_lock_timeout = '5min'
duroxide.session_idle_timeout = '10min'
duroxide.session_cleanup_interval = '1h'
duroxide.poll_interval = '500ms'
restart_after_crash = on
duroxide.max_open_sessions = 12
});
my $workers_up = "SELECT count(*) = 4 FROM duroxide.runtime_status "
  . "WHERE role = 'activity worker' AND pid IS NOT NULL AND state IN ('idle', 'running')";
ok($node->poll_query_until('postgres', $workers_up), 'four activity workers run');

sub sql { return $node->safe_psql('postgres', shift); }
sub start {
    my ($instance, $orchestration, $input) = @_;
    sql("SELECT duroxide.start_orchestration('$instance', '$orchestration', '$input')");
}
sub finish {
    my ($instance) = @_;
    return sql("SELECT status || ' ' || coalesce(output, error::text) "
          . "FROM duroxide.wait_for_orchestration('$instance', '60 s')");
}
sub run {
    my ($instance, $orchestration, $input) = @_;
    start($instance, $orchestration, $input);
    my $result = finish($instance);
    $result =~ s/^Completed // or diag("$instance: $result");
    return $result;
}
sub raise {
    my ($instance, $event) = @_;
    sql("SELECT duroxide.raise_event('$instance', '$event', '')");
}
sub visits { return map { [split /\|/] } grep { /\|/ } split /;/, shift; }
# The instance's session rows: "session:open|pinned" for each, sorted.
sub rows_of {
    my ($instance) = @_;
    return sql("SELECT coalesce(string_agg(session_id || ':' || what, ',' ORDER BY session_id, what), '') "
          . "FROM (SELECT session_id, 'open' AS what FROM duroxide.open_sessions WHERE instance_id = '$instance' "
          . "UNION ALL SELECT session_id, 'pinned' FROM duroxide.session_locks WHERE instance_id = '$instance') s");
}
sub wait_for_visits {
    my ($instance, $count) = @_;
    return $node->poll_query_until('postgres',
        "SELECT count(*) >= $count FROM duroxide.read_history('$instance') "
      . "WHERE event_type = 'ActivityCompleted'");
}

# --- affinity across turns: every activity of the session on one worker, its state kept.
my @series = visits(run('aff', 'ExplicitSeries', 'A:4'));
is(scalar(@series), 4, 'four visits, one turn each');
is(scalar(keys %{{ map { $_->[0] => 1 } @series }}), 1, 'all on one of the four workers');
is(join(',', map { $_->[2] } @series), '1,2,3,4', 'the session state lived across turns');
is(rows_of('aff'), '', 'a completed instance has no session left (closed, unpinned)');

# --- the plugin guide's example: a per-session cache, built once on the owning worker.
my @answers = split /\n/, run('conv', 'Conversation', 'color=blue;color;size=9;size');
is(join(',', map { (split /\|/)[0] } @answers), 'ok,blue,ok,9', 'the cache answers');
is(join(',', map { (split /\|/)[1] } @answers), join(',', ('rehydrations=1') x 4),
    'the cache was built once');
is(scalar(keys %{{ map { (split /\|/)[2] => 1 } @answers }}), 1, 'on one worker');

# --- one session id in two instances: nothing shared.
start('two1', 'ExplicitSeries', 'S:2:wait');
start('two2', 'ExplicitSeries', 'S:2:wait');
ok(wait_for_visits('two1', 1) && wait_for_visits('two2', 1), 'both instances ran a first visit');
is(sql("SELECT string_agg(instance_id || '/' || session_id || '/' || lifecycle, ',' ORDER BY instance_id) "
   . "FROM duroxide.sessions WHERE instance_id IN ('two1', 'two2')"),
    'two1/S/open,two2/S/open', 'duroxide.sessions shows two open sessions with the same id');
raise($_, 'next') for qw(two1 two2);
ok(wait_for_visits('two1', 2) && wait_for_visits('two2', 2), 'both ran a second visit');
raise($_, 'finish') for qw(two1 two2);
foreach my $instance (qw(two1 two2)) {
    my @v = visits(finish($instance) =~ s/^Completed //r);
    is(join(',', map { $_->[2] } @v), '1,2', "$instance kept its own session state");
}

# --- continue-as-new keeps the session open; completion closes it.
start('carry', 'SessionCarry', '1');
ok($node->poll_query_until('postgres',
    "SELECT count(*) = 1 FROM duroxide.read_history('carry', 2) WHERE event_type = 'ActivityCompleted'"), 'the next execution ran on the session without reopening it');
is(rows_of('carry'), 'carried:open,carried:pinned', 'still open and pinned after continue-as-new');
raise('carry', 'finish');
my @carry = visits(finish('carry') =~ s/^Completed //r);
is($carry[0][0], $carry[1][0], 'both executions used one worker');
is($carry[1][2], '2', 'and its session state');
is(rows_of('carry'), '', 'completion closed the session');

# --- scheduling on a session that is not open fails the orchestration.
start('notopen', 'SessionNotOpen', '');
like(finish('notopen'), qr/^Failed .*not-opened.*which is not open in this instance/,
    'a session that is not open fails the orchestration');
is(rows_of('notopen'), '', 'and the failure closed its open session');

# --- at most duroxide.max_open_sessions (set to 12 above) open at once.
is(run('many12', 'SessionMany', '12'), '12', 'twelve sessions may be open at once');
start('many13', 'SessionMany', '13');
like(finish('many13'), qr/^Failed .*12 sessions are open, the limit is 12/,
    'a thirteenth fails the orchestration');
is(rows_of('many13'), '', 'and its open sessions were closed');

# --- close during a running activity: lock stealing cancels it.
start('close', 'CloseWhileRunning', '');
ok($node->poll_query_until('postgres',
    "SELECT count(*) = 1 FROM duroxide.worker_queue WHERE instance_id = 'close' "
  . "AND session_id = 'held' AND lock_token IS NOT NULL"), 'the session activity runs');
raise('close', 'close');
my @after = visits(finish('close') =~ s/^Completed //r);
is($after[0][2], '1', 'the orchestration went on with a new session');
ok($node->wait_for_log(qr/session activity cancelled on session held/), 'the running activity was cancelled');
is(sql("SELECT count(*) FROM duroxide.read_history('close') WHERE event_type = 'ActivityCompleted'"),
    '1', 'only the new session\'s activity completed');

# --- a worker that loses a session (released from SQL; the activity's own lease is intact)
# cancels that session's running activity.
my $lost_offset = -s $node->logfile;
start('lost', 'CloseWhileRunning', '');
ok($node->poll_query_until('postgres',
    "SELECT count(*) = 1 FROM duroxide.worker_queue WHERE instance_id = 'lost' "
  . "AND session_id = 'held' AND lock_token IS NOT NULL"), 'the session activity runs');
is(sql("SELECT duroxide.release_session('lost', 'held')"), 't', 'its session is released');
ok($node->wait_for_log(qr/SessionHold #3 of lost \(execution 1\): session activity cancelled/,
    $lost_offset), 'the worker that lost the session cancelled its running activity');
raise('lost', 'close');
like(finish('lost'), qr/^Completed /, 'the orchestration closed the session and went on');

# --- a late completion after close is discarded.
my $offset = -s $node->logfile;
start('late', 'CloseWhileRunning', 'SessionLate');
ok($node->poll_query_until('postgres',
    "SELECT count(*) = 1 FROM duroxide.worker_queue WHERE instance_id = 'late' AND lock_token IS NOT NULL"),
    'the late activity runs');
raise('late', 'close');
like(finish('late'), qr/^Completed /, 'the orchestration completed without it');
ok($node->wait_for_log(qr/late session activity completes; cancelled=yes/, $offset),
    'the late activity saw the cancellation and completed anyway');
ok($node->wait_for_log(qr/SessionLate #3 of "late" was cancelled: nothing is recorded/, $offset),
    'its late completion was discarded');
is(sql("SELECT count(*) FROM duroxide.read_history('late') WHERE event_type = 'ActivityCompleted'"),
    '1', 'history has only the other activity\'s completion');

# --- graceful stop: SIGTERM releases the worker's sessions at once; another worker reclaims
# without waiting for the five-minute lease.
start('grace', 'ExplicitSeries', 'G:2:wait');
ok(wait_for_visits('grace', 1), 'first visit');
my $pid = sql("SELECT worker_pid FROM duroxide.sessions WHERE instance_id = 'grace'");
like($pid, qr/^\d+$/, 'the owner is alive');
sql("SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres',
    "SELECT count(*) = 0 FROM duroxide.session_locks WHERE instance_id = 'grace'"),
    'the stopping worker released its session');
is(sql("SELECT lifecycle FROM duroxide.sessions WHERE instance_id = 'grace'"), 'open',
    'the session stays open');
raise('grace', 'next');
ok(wait_for_visits('grace', 2), 'the next visit ran, on a worker that claimed the session');
raise('grace', 'finish');
my @grace = visits(finish('grace') =~ s/^Completed //r);
is($grace[1][2], '1', 'with fresh session state');
isnt($grace[1][1], $pid, 'in another process');

# --- churn: 1 000 open/close cycles (every 100th runs an activity) leave nothing behind.
is(run('churn', 'SessionChurn', '1000:100'), '10', 'ten visits in 1 000 cycles');
is(rows_of('churn'), '', 'no session row of the instance');
is(sql("SELECT count(*) FROM duroxide.open_sessions"), '0', 'no open session anywhere');
ok($node->poll_query_until('postgres',
    "SELECT coalesce(sum(sessions), 0) = 0 FROM duroxide.runtime_status WHERE role = 'activity worker'"),
    'no worker owns a session any more');

# --- a crashed owner: the open session survives, its work is taken over.
start('crash', 'ExplicitSeries', 'C:2:wait');
ok(wait_for_visits('crash', 1), 'first visit');
my $owner = sql("SELECT worker_pid FROM duroxide.sessions WHERE instance_id = 'crash'");
kill 'KILL', $owner;
ok($node->poll_query_until('postgres', $workers_up), 'workers are back after the crash');
is(sql("SELECT lifecycle FROM duroxide.sessions WHERE instance_id = 'crash'"), 'open',
    'the session is still open');
raise('crash', 'next');
# An event raised before its wait is recorded is never delivered (duroxide's causal rule), so
# 'finish' waits until the orchestration, past the second visit, has subscribed to it.
ok($node->poll_query_until('postgres',
    "SELECT count(*) = 1 FROM duroxide.read_history('crash') "
  . "WHERE event_type = 'ExternalSubscribed' AND event->>'name' = 'finish'"),
    'the orchestration waits for finish');
raise('crash', 'finish');
my @crash = visits(finish('crash') =~ s/^Completed //r);
is(scalar(@crash), 2, 'the second visit ran after the crash');
is(rows_of('crash'), '', 'completion closed the session');

$node->stop;
done_testing();
