# Activity sessions on three activity workers. Affinity is asserted from what the activities
# report ("<worker id>|<pid>|<visit number of the session on that worker>"), never from timing:
# routing to one worker with its session state, distinct sessions on distinct workers at one
# session per worker, capacity that blocks then unblocks, release from SQL dropping the state,
# mixed items, continue-as-new and retries keeping the session, idle unpinning, settings
# validation, a killed owner's session claimable at once, and, after a crash-like stop (no
# graceful release), the workers getting their own sessions back by their stable ids. These
# are implicit sessions (never opened); since explicit sessions (018_explicit_sessions.pl) a
# session belongs to its instance and is unpinned when the instance ends.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

# An idle timeout of an hour until the idle-unpinning part: with one session per worker, a
# worker whose session went idle (no activity for the timeout) may claim a second session, so
# the parts that count owners ("three sessions on three workers", capacity, kept state) hold
# only while no session can go idle, however slowly a loaded machine schedules the workers.
my $node = duroxide_node('sessions', plugins => ['duroxide_sample'], conf => q{
duroxide.activity_workers = 3
duroxide.worker_node_id = 'node-a'
duroxide.max_sessions_per_worker = 1
duroxide.worker_lock_timeout = '10s'
duroxide.session_lock_timeout = '2s'
duroxide.session_idle_timeout = '1h'
duroxide.session_cleanup_interval = '1s'
duroxide.poll_interval = '500ms'
});
my $workers_up = "SELECT count(*) = 3 FROM duroxide.runtime_status "
  . "WHERE role = 'activity worker' AND pid IS NOT NULL AND state IN ('idle', 'running')";
ok($node->poll_query_until('postgres', $workers_up), 'three activity workers run');

sub start {
    my ($instance, $orchestration, $input) = @_;
    $node->safe_psql('postgres',
        "SELECT duroxide.start_orchestration('$instance', '$orchestration', '$input')");
}
sub finish {
    my ($instance) = @_;
    return $node->safe_psql('postgres',
        "SELECT status || ' ' || coalesce(output, error::text) "
      . "FROM duroxide.wait_for_orchestration('$instance', '60 s')");
}
sub run {
    my ($instance, $orchestration, $input) = @_;
    start($instance, $orchestration, $input);
    my $result = finish($instance);
    $result =~ s/^Completed // or diag("$instance: $result");
    return $result;
}
# [worker id, pid, visit number] of each visit in an output.
sub visits { return map { [split /\|/] } grep { /\|/ } split /;/, shift; }
sub release_all {
    $node->safe_psql('postgres',
        'SELECT duroxide.release_worker_sessions(o) FROM (SELECT DISTINCT owner_id AS o FROM duroxide.sessions) s');
}
sub raise {
    my ($instance) = @_;
    $node->safe_psql('postgres', "SELECT duroxide.raise_event('$instance', 'next', '')");
}

# --- routing: one worker, its state kept between the activities of the session.
my @series = visits(run('route', 'SessionSeries', 'A:4'));
is(scalar(@series), 4, 'four visits');
is(scalar(keys %{{ map { $_->[0] => 1 } @series }}), 1, 'all on one worker');
like($series[0][0], qr{^node-a/\d+/[0-2]$}, 'worker id is <node id>/<database>/<index>');
is(join(',', map { $_->[2] } @series), '1,2,3,4', 'the session state lived across activities');
is($node->safe_psql('postgres', "SELECT count(*) FROM duroxide.sessions WHERE session_id = 'A'"),
    '0', 'the completed instance unpinned its session');
my $log = slurp_file($node->logfile);
my @orchestration_traces = $log =~ /LOG:  duroxide: orchestration SessionSeries\@1\.0\.0 route \(execution 1\): series of 4 on session A/g;
is(scalar(@orchestration_traces), 1, 'the orchestration trace line is logged once, not on replay');
my @activity_traces = $log =~ /LOG:  duroxide: activity SessionVisit #\d+ of route \(execution 1\): visit \d of session A/g;
is(scalar(@activity_traces), 4, 'each activity run logs its trace line');
release_all();

# --- three sessions at one session per worker: three workers, each session on one.
my %by_session;
my @fan = visits(run('fan', 'SessionFanOut', 'S1,S2,S3:3'));
my @names = map { ("S$_") x 3 } 1 .. 3;
push @{ $by_session{ $names[$_] } }, $fan[$_] for 0 .. $#fan;
my %owner_of;
foreach my $session (sort keys %by_session) {
    my %workers = map { $_->[0] => 1 } @{ $by_session{$session} };
    is(scalar(keys %workers), 1, "$session ran on one worker");
    is(join(',', sort map { $_->[2] } @{ $by_session{$session} }), '1,2,3', "$session state kept");
    $owner_of{$session} = (keys %workers)[0];
}
is(scalar(keys %{{ reverse %owner_of }}), 3, 'three sessions on three workers');

# --- capacity: three waiting instances hold a session each, so every worker is at capacity
# and a fourth session waits ... until one is released.
start("hold$_", 'SessionSeries', "S$_:2:wait") for 1 .. 3;
ok($node->poll_query_until('postgres',
        "SELECT count(DISTINCT owner_id) = 3 FROM duroxide.sessions WHERE session_id IN ('S1', 'S2', 'S3') "
      . "AND session_state = 'active'"), 'three sessions held on three workers');
%owner_of = map { split /\|/ } split /\n/, $node->safe_psql('postgres',
    "SELECT session_id || '|' || owner_id FROM duroxide.sessions WHERE session_id IN ('S1', 'S2', 'S3')");
like($owner_of{S1}, qr{^node-a/\d+/[0-2]$}, 'duroxide.sessions shows the owner (<node id>/<database>/<index>)');
start('blocked', 'SessionSeries', 'S4:1');
sleep 1;
is($node->safe_psql('postgres', "SELECT status FROM duroxide.get_orchestration_status('blocked')"),
    'Running', 'a fourth session waits while every worker is at capacity');
is($node->safe_psql('postgres', "SELECT count(*) FROM duroxide.sessions WHERE session_id = 'S4'"),
    '0', 'nobody claimed it');
is($node->safe_psql('postgres', "SELECT duroxide.release_session('hold1', 'S1')"), 't', 'release S1');
my @blocked = visits(finish('blocked') =~ s/^Completed //r);
is($blocked[0][0], $owner_of{S1}, "it runs on S1's former worker, the only one with room");
is($node->safe_psql('postgres', "SELECT duroxide.release_session('hold1', 'S1')"), 'f',
    'releasing an unpinned session says false');

# Released sessions lose their state: S1 goes back to the only worker with room (the blocked
# instance's session ended with it) and starts again at visit 1; S2 and S3 kept theirs.
$node->safe_psql('postgres', "SELECT duroxide.raise_event('hold$_', 'next', '')") for 1 .. 3;
my @again = visits(finish('hold1') =~ s/^Completed //r);
is("$again[1][0] $again[1][2]", "$owner_of{S1} 1", 'release dropped the session state');
foreach my $i (2, 3) {
    my @kept = visits(finish("hold$i") =~ s/^Completed //r);
    is("$kept[1][0] $kept[1][2]", $owner_of{"S$i"} . ' 2', "S$i kept its worker and state");
}
release_all();

# --- session and plain activities together; a session counts once however many activities.
my $mixed = run('mixed', 'SessionMixed', 'M');
my @mixed = split /;/, $mixed;
is($mixed[1], 'Hello, plain!', 'the plain activity ran');
my @mv = visits($mixed);
is($mv[0][0], $mv[1][0], 'both session activities on one worker');
is(join(',', sort map { $_->[2] } @mv), '1,2', 'sharing its state');
ok($node->poll_query_until('postgres',
        "SELECT sessions = 0 FROM duroxide.runtime_status WHERE pid = $mv[0][1]"),
    'the completed instance left no session on its worker');
release_all();

# --- continue-as-new keeps the session, retries stay on it.
my @can = visits(run('can', 'SessionContinue', 'C:3'));
is(scalar(keys %{{ map { $_->[0] => 1 } @can }}), 1, 'three executions, one worker');
is(join(',', map { $_->[2] } @can), '1,2,3', 'state across continue-as-new');
release_all();
my @retry = visits(run('retry', 'SessionRetry', 'R'));
is($retry[0][2], '2', 'the retry ran where the failed attempt left its state');
release_all();

# --- idle unpinning: no activity for session_idle_timeout, the lease runs out, the state goes.
# The workers take the 6 s timeout at their next loop after the reload: until then they renew
# the lease, which the poll below waits out.
$node->safe_psql('postgres', "ALTER SYSTEM SET duroxide.session_idle_timeout = '6s'");
$node->reload;
start('idle', 'SessionSeries', 'I:2:wait');
ok($node->poll_query_until('postgres',
        "SELECT session_state = 'idle' FROM duroxide.sessions WHERE session_id = 'I'"),
    'an unused session turns idle');
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 0 FROM duroxide.sessions WHERE session_id = 'I' AND session_state IN ('active', 'idle')"),
    'its lease runs out (and the orphan is cleaned up)');
raise('idle');
my @idle = visits(finish('idle') =~ s/^Completed //r);
is($idle[1][2], '1', 'the next activity starts without the old state');

# --- an idle timeout shorter than the activity lease renewal is refused with a warning.
my $log_offset = -s $node->logfile;
$node->safe_psql('postgres', "ALTER SYSTEM SET duroxide.session_idle_timeout = '2s'");
$node->reload;
my $warned = 0;
foreach (1 .. 100) {
    if ($node->log_contains('session_idle_timeout \(2000 ms\) must be longer than', $log_offset)) {
        $warned = 1;
        last;
    }
    select(undef, undef, undef, 0.1);
}
ok($warned, 'an unsafe idle timeout is reported in the server log and replaced');

# --- a killed owner's session is claimable at once, long before its lease would run out.
$node->safe_psql('postgres', q{
ALTER SYSTEM SET duroxide.session_lock_timeout = '1h';
ALTER SYSTEM SET duroxide.session_idle_timeout = '2h';
});
$node->reload;
sleep 1;
release_all();
start('kill', 'SessionSeries', 'K:2:wait');
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 1 FROM duroxide.sessions WHERE session_id = 'K' AND worker_pid IS NOT NULL"),
    'session K is pinned');
my $victim = $node->safe_psql('postgres', "SELECT worker_pid FROM duroxide.sessions WHERE session_id = 'K'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($victim)");
raise('kill');
my @killed = visits(finish('kill') =~ s/^Completed //r);
isnt($killed[1][1], $victim, 'the next activity ran in another process without waiting an hour');
is($killed[1][2], '1', 'with fresh state');

# --- a crash-like stop (immediate: no graceful release): each worker gets its own sessions
# back (stable owner ids). A graceful stop releases them instead (018_explicit_sessions.pl).
ok($node->poll_query_until('postgres', $workers_up), 'the killed worker is back');
release_all();
start("back$_", 'SessionSeries', "B$_:2:wait") for 1 .. 3;
ok($node->poll_query_until('postgres',
        "SELECT count(DISTINCT owner_id) = 3 FROM duroxide.sessions WHERE session_id LIKE 'B_'"),
    'three sessions on three workers');
my %before = map { split /\|/ } split /\n/, $node->safe_psql('postgres',
    "SELECT session_id || '|' || owner_id FROM duroxide.sessions WHERE session_id LIKE 'B_'");
$node->stop('immediate');
$node->start;
ok($node->poll_query_until('postgres', $workers_up), 'workers are back after a restart');
raise("back$_") for 1 .. 3;
foreach my $i (1 .. 3) {
    my @back = visits(finish("back$i") =~ s/^Completed //r);
    is($back[1][0], $before{"B$i"}, "B$i went back to its worker");
    isnt($back[1][1], $back[0][1], "B$i: a new process of that worker");
}

$node->stop;
done_testing();
