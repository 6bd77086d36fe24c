# Plugin activities with ctx.sql(), heartbeats and cancellation (the sample plugin's
# RecordEffect, RecordThenFail, RecordThenWait, HeartbeatFor, IgnoreCancellation, WhoAmI,
# SetThenShow, SqlValue): the activity's writes commit exactly with its completion, once after
# success, never after a failure, never for a run whose lease was lost mid-activity; a
# heartbeating activity outlives many lease timeouts without being run twice (and keeps its
# session's lease, also one much shorter than its own, so that the session's next activity
# waits for it on the same worker); a cancelled activity stops and records nothing, and one
# that ignores its cancellation is unwound after the grace period; completions held for a batch are recorded
# when a long activity after them first suspends; statements run as the role that registered
# the plugin, and a SET does not outlive its statement.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = duroxide_node('activity_sql', plugins => ['duroxide_sample'], conf => q{
duroxide.activity_workers = 2
duroxide.worker_lock_timeout = '1s'
duroxide.activity_cancellation_grace_period = '1s'
duroxide.session_lock_timeout = '1s'
duroxide.poll_interval = '200ms'
});
$node->safe_psql('postgres', q{
CREATE TABLE sql_effects (input text);
CREATE TABLE sql_go (input text);
CREATE SEQUENCE sql_runs;
CREATE SEQUENCE long_runs;
});

sub status_of {
    my ($instance) = @_;
    return $node->safe_psql('postgres',
        "SELECT status || ' ' || coalesce(output, '') FROM duroxide.get_orchestration_status('$instance')");
}
sub wait_status {
    my ($instance, $status) = @_;
    return $node->poll_query_until('postgres',
        "SELECT status = '$status' FROM duroxide.get_orchestration_status('$instance')");
}
sub effects {
    my ($input) = @_;
    return $node->safe_psql('postgres', "SELECT count(*) FROM sql_effects WHERE input LIKE '$input%'");
}
sub metric {
    my ($name) = @_;
    return $node->safe_psql('postgres',
        "SELECT coalesce(sum(value), 0) FROM duroxide.metrics WHERE metric = '$name'");
}
sub start {
    my ($instance, $call) = @_;
    $node->safe_psql('postgres',
        "SELECT duroxide.start_orchestration('$instance', 'CallActivity', '$call')");
}

# --- success: the write is visible once, with the completion
start('ok-1', 'RecordEffect:one');
ok(wait_status('ok-1', 'Completed'), 'success: the instance completes');
is(status_of('ok-1'), 'Completed recorded one (1)', 'success: ctx.sql() returned the row');
is(effects('one'), '1', 'success: the write committed once');

# --- failure: the writes (one before, one after a caught SQL error) roll back
start('fail-1', 'RecordThenFail:two');
ok(wait_status('fail-1', 'Failed'), 'failure: the instance fails');
like($node->safe_psql('postgres',
        "SELECT error::text FROM duroxide.get_orchestration_status('fail-1')"),
    qr/failed after writing two twice/, 'failure: with the activity\'s error');
is(effects('two'), '0', 'failure: none of the activity\'s writes stand');

# --- the lease expires mid-activity: that run's write rolls back, the next run's commits
my $log_offset = -s $node->logfile;
start('lost-1', 'RecordThenWait:three');
ok($node->poll_query_until('postgres',
        "SELECT is_called AND last_value = 1 FROM sql_runs"), 'lease lost: the first run is running');
$node->safe_psql('postgres', q{
UPDATE duroxide.worker_queue SET locked_until = clock_timestamp() - interval '1 s'
 WHERE instance_id = 'lost-1'
});
ok($node->poll_query_until('postgres', "SELECT last_value = 2 FROM sql_runs"),
    'lease lost: the activity is run again');
$node->safe_psql('postgres', "INSERT INTO sql_go VALUES ('three')");
ok(wait_status('lost-1', 'Completed'), 'lease lost: the instance completes');
is(status_of('lost-1'), 'Completed recorded three', 'lease lost: with the second run\'s output');
is(effects('three'), '1', 'lease lost: the write of the run that lost its lease rolled back');
ok($node->log_contains(qr/RecordThenWait #\d+ of "lost-1" (was cancelled|was cancelled or its lease expired)/,
        $log_offset), 'lease lost: the first run was dropped');

# --- a heartbeating activity outlives several lease timeouts and runs once
my $renewals = metric('lock_renewals');
my $dropped = metric('activities_cancelled') + metric('lock_steals');
start('long-1', 'HeartbeatFor:4000');
ok(wait_status('long-1', 'Completed'), 'heartbeats: the instance completes');
is(status_of('long-1'), 'Completed runs 1', 'heartbeats: one run reached the end');
cmp_ok(metric('lock_renewals') - $renewals, '>=', 3, 'heartbeats: the lease was renewed');
is(metric('activities_cancelled') + metric('lock_steals'), $dropped,
    'heartbeats: no run lost its lease');

# --- a heartbeating session activity keeps its session's lease too (duroxide.session_lock_timeout
# is 1 s here): the session is still held while the activity runs on past it.
$node->safe_psql('postgres', q{
SELECT duroxide.start_orchestration('sess-1', 'CallOnSession', 's-long:HeartbeatFor:5000')
});
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 1 FROM duroxide.session_locks WHERE session_id = 's-long'"),
    'session: the activity claimed its session');
ok($node->poll_query_until('postgres',
        "SELECT clock_timestamp() > claimed_at + interval '2.5 s' FROM duroxide.session_locks "
      . "WHERE session_id = 's-long'"), 'session: well past the session lease');
is($node->safe_psql('postgres',
        "SELECT (SELECT locked_until > clock_timestamp() FROM duroxide.session_locks "
      . "WHERE session_id = 's-long') || ' ' || status "
      . "FROM duroxide.get_orchestration_status('sess-1')"),
    'true Running', 'session: its lease was renewed while the activity runs');
ok(wait_status('sess-1', 'Completed'), 'session: the activity completes');
is(status_of('sess-1'), 'Completed runs 2', 'session: one run reached the end');

# --- the orchestration is cancelled: the activity stops and records nothing
$log_offset = -s $node->logfile;
start('cancel-1', 'RecordThenWait:four');
ok($node->poll_query_until('postgres', "SELECT last_value = 3 FROM sql_runs"),
    'cancel: the activity is running');
$node->safe_psql('postgres', "SELECT duroxide.cancel_instance('cancel-1', 'no longer needed')");
ok(wait_status('cancel-1', 'Failed'), 'cancel: the instance ends cancelled');
ok($node->wait_for_log(qr/RecordThenWait #\d+ of "cancel-1" was cancelled: nothing is recorded/,
        $log_offset), 'cancel: the activity stopped and its result was dropped');
is(effects('four'), '0', 'cancel: its write rolled back');
is($node->safe_psql('postgres',
        "SELECT count(*) FROM duroxide.worker_queue WHERE instance_id = 'cancel-1'"),
    '0', 'cancel: nothing of it is left queued');
is($node->safe_psql('postgres',
        "SELECT count(*) FROM duroxide.read_history('cancel-1') WHERE event_type = 'ActivityCompleted'"),
    '0', 'cancel: no completion is recorded');

# --- an activity that ignores its cancellation is unwound after the grace period
$log_offset = -s $node->logfile;
start('unwind-1', 'IgnoreCancellation:five');
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'duroxide: activity IgnoreCancellation'"),
    'unwind: the activity is running');
$node->safe_psql('postgres', "SELECT duroxide.cancel_instance('unwind-1', 'stop')");
ok($node->wait_for_log(
        qr/IgnoreCancellation #\d+ of "unwind-1" was cancelled and unwound after its grace period/,
        $log_offset), 'unwind: the activity was unwound');
is(effects('five'), '0', 'unwind: its write rolled back');
ok(wait_status('unwind-1', 'Failed'), 'unwind: the instance ends cancelled');

# The workers are still healthy: a new activity runs.
start('ok-2', 'RecordEffect:six');
ok(wait_status('ok-2', 'Completed'), 'after all that, activities still run');
is(effects('six'), '1', 'and their writes commit');

# --- a SET in a statement does not outlive it
start('set-1', 'SetThenShow:');
ok(wait_status('set-1', 'Completed'), 'set: the instance completes');
unlike(status_of('set-1'), qr/set by an activity/, 'set: the next statement sees the setting unchanged');

# --- the statements run as the role that registered the plugin, with its privileges
ok($node->log_contains(qr/ctx\.sql\(\) of plugin activities runs as the role that registered their plugin, here a superuser/),
    'role: running as the superuser that registered the plugin is logged');
$node->safe_psql('postgres', q{
CREATE ROLE plugin_owner NOLOGIN IN ROLE duroxide_admin;
GRANT INSERT, SELECT ON sql_effects TO plugin_owner;
GRANT USAGE ON SEQUENCE long_runs TO plugin_owner;
SELECT duroxide.unregister_plugin('duroxide_sample');
SET ROLE plugin_owner;
SELECT duroxide.register_plugin('duroxide_sample');
});
start('role-1', 'WhoAmI:');
ok(wait_status('role-1', 'Completed'), 'role: the instance completes');
is(status_of('role-1'), 'Completed plugin_owner', 'role: statements run as the registering role');
start('role-2', 'RecordEffect:eight');
ok(wait_status('role-2', 'Completed'), 'role: a granted write succeeds');
$node->safe_psql('postgres', 'REVOKE INSERT ON sql_effects FROM plugin_owner');
start('role-3', 'RecordEffect:nine');
ok(wait_status('role-3', 'Failed'), 'role: a write the role may not do fails the activity');
like($node->safe_psql('postgres',
        "SELECT error::text FROM duroxide.get_orchestration_status('role-3')"),
    qr/permission denied for table sql_effects/, 'role: with the permission error');
is(effects('eight') . effects('nine'), '10', 'role: only the granted write stands');
start('role-4', 'SqlValue:SET ROLE NONE');
ok(wait_status('role-4', 'Failed'), 'role: an activity cannot leave the role');
like($node->safe_psql('postgres',
        "SELECT error::text FROM duroxide.get_orchestration_status('role-4')"),
    qr/cannot set parameter \\"role\\"/, 'role: SET ROLE is refused');

# --- one worker with a batch of held completions: a long activity after a short one (which
# runs no statement, so its completion waits for the batch) records the short one's completion
# at its first suspension point, not after it ends (its lease would run out).
$node->append_conf('postgresql.conf', 'duroxide.activity_workers = 1');
$node->restart;
my $steals = metric('lock_steals');
start('busy-1', 'HeartbeatFor:1500');
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 1 FROM duroxide.worker_queue WHERE instance_id = 'busy-1' AND lock_token IS NOT NULL"),
    'batch: the worker is busy');
start('short-1', 'Hello:seven');
start('long-2', 'HeartbeatFor:6000');
ok(wait_status('short-1', 'Completed'), 'batch: the short activity completes');
is($node->safe_psql('postgres',
        "SELECT status FROM duroxide.get_orchestration_status('long-2')"),
    'Running', 'batch: while the long one after it still runs');
ok(wait_status('long-2', 'Completed'), 'batch: the long one completes');
is(status_of('short-1'), 'Completed Hello, seven!', 'batch: the short activity ran once, with its output');
is(metric('lock_steals'), $steals, 'batch: no completion found its lease gone');

# --- with a long lease (renewed only every 5 minutes) a cancelled activity that runs no
# statement still learns of its cancellation at once: the lease is looked at every second.
$node->append_conf('postgresql.conf', "duroxide.worker_lock_timeout = '10min'");
$node->restart;
$log_offset = -s $node->logfile;
start('cancel-2', 'HeartbeatFor:600000');
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 1 FROM duroxide.worker_queue WHERE instance_id = 'cancel-2' AND lock_token IS NOT NULL"),
    'long lease: the activity is running');
$node->safe_psql('postgres', "SELECT duroxide.cancel_instance('cancel-2', 'stop')");
ok($node->wait_for_log(qr/HeartbeatFor #\d+ of "cancel-2" was cancelled: nothing is recorded/,
        $log_offset), 'long lease: the cancelled activity stopped long before a renewal');

# --- a long session activity keeps its session on its worker, at realistic ratios: the session
# lease (2 s) is far shorter than the activity's (6 s, renewed after 3 s). Another activity of
# the session (same instance: sessions belong to their instance), queued when the session's
# lease would have run out without renewals, waits for the first and runs after it on the same
# worker; the session is never claimed anew meanwhile.
$node->append_conf('postgresql.conf', qq{
duroxide.activity_workers = 2
duroxide.worker_lock_timeout = '6s'
duroxide.session_lock_timeout = '2s'
});
$node->restart;
$node->safe_psql('postgres', q{
SELECT duroxide.start_orchestration('pin-1', 'PinnedPair',
    's-pin:5000|SELECT nextval(''long_runs'') || ''@'' || pg_backend_pid()')
});
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 1 FROM duroxide.sessions WHERE session_id = 's-pin' AND worker_pid IS NOT NULL"),
    'pinned: the long activity claimed its session');
my $session_row = "SELECT owner_id || ' ' || worker_pid || ' ' || claimed_at FROM duroxide.sessions "
    . "WHERE session_id = 's-pin'";
my $claim = $node->safe_psql('postgres', $session_row);
my ($owner_pid) = $claim =~ /^\S+ (\d+) /;
ok($node->poll_query_until('postgres',
        "SELECT clock_timestamp() > claimed_at + interval '2.5 s' FROM duroxide.session_locks "
      . "WHERE session_id = 's-pin'"), 'pinned: past the session lease');
$node->safe_psql('postgres', "SELECT duroxide.raise_event('pin-1', 'second', '')");
# Every claim of the session seen until the second activity is done (a new claim, even by the
# same worker, changes claimed_at).
my %claims = ($claim => 1);
for (my $look = 0; $look < 3000; $look++) {
    my ($row, $done) = split /\|/, $node->safe_psql('postgres',
        "SELECT coalesce(($session_row), '') || '|' || (status IN ('Completed', 'Failed')) "
      . "FROM duroxide.get_orchestration_status('pin-1')");
    $claims{$row} = 1 if $row ne '';
    last if $done eq 'true';
    usleep(50_000);
}
ok(wait_status('pin-1', 'Completed'), 'pinned: both activities complete');
is(join(', ', sort keys %claims), $claim, 'pinned: the session was never claimed anew');
my ($first_run, $second) = status_of('pin-1') =~ /^Completed runs (\d+)\|(.*)$/;
ok(defined $first_run, 'pinned: the long activity ran to its end once');
is($second, ($first_run + 1) . '@' . $owner_pid,
    'pinned: the second activity ran after the first ended, on the session\'s worker');

$node->stop;
done_testing();
