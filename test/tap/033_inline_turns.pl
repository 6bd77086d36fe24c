# Inline turns (duroxide.inline_turns, docs/architecture.md "Inline turns"): an activity worker
# runs the next turn of an instance in the transaction that records the activity's completion.
# (a) Many seq3-like workflows (plugin activities, SQL-workflow steps that write, a
# sub-orchestration) complete with exact histories, and the turns really ran inline (the
# inline_turns metric, the dispatchers' share of the turns). (b) Activity workers killed with
# SIGKILL under load, repeatedly, and (c) at each developer crash point of the inline path
# (after the lock, after the turn is decided, just before the commit) lose and duplicate
# nothing: every workflow completes, each SQL step's write exists once, each history holds its
# events once, queues and locks end empty. (d) duroxide.inline_turns = auto: one workflow at a
# time, the turns run inline; a worker with more work waiting, or a dispatcher running, leaves
# them to the dispatchers; a crash in an auto inline turn loses nothing.
# DUROXIDE_TEST_INLINE_TURNS=off runs the same file with inline turns off: (a)'s "inline"
# checks then fail, as they did before inline turns existed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $inline = $ENV{DUROXIDE_TEST_INLINE_TURNS} // 'on';
my $node = PostgreSQL::Test::Cluster->new('inline');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'duroxide'
duroxide.plugin_directories = '$ENV{DUROXIDE_PLUGIN_DIR}'
duroxide.activity_workers = 2
duroxide.worker_lock_timeout = '1h'
duroxide.orchestration_lock_timeout = '1h'
duroxide.inline_turns = $inline
max_worker_processes = 16
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION duroxide;
SELECT duroxide.register_plugin('duroxide_sample');
CREATE ROLE wf_runner LOGIN IN ROLE duroxide_user;
CREATE TABLE wf_effects (instance text, step int);
GRANT INSERT ON wf_effects TO wf_runner;
SET ROLE wf_runner;
SELECT duroxide.define_workflow('three_writes', $wf$
{"kind": "seq", "steps": [
  {"kind": "sql", "query": "INSERT INTO public.wf_effects VALUES ($1, 1)", "params": ["$input"]},
  {"kind": "sql", "query": "INSERT INTO public.wf_effects VALUES ($1, 2)", "params": ["$input"]},
  {"kind": "sql", "query": "INSERT INTO public.wf_effects VALUES ($1, 3)", "params": ["$input"]},
  {"kind": "return", "value": "$input"}]}
$wf$);
});

sub metric {
    my ($name) = @_;
    return $node->safe_psql('postgres',
        "SELECT value FROM duroxide.metrics WHERE metric = '$name'");
}

# Starts `count` Loop orchestrations (three sequential plugin activities) and `count`
# three_writes workflows (three SQL steps that write), named after `prefix`.
# One transaction: a worker that dies once it commits cannot leave the batch half started.
sub batch_sql {
    my ($prefix, $count) = @_;
    return qq{
BEGIN;
SELECT duroxide.start_orchestration('$prefix-p' || i, 'Loop', 'x') FROM generate_series(1, $count) AS i;
SET LOCAL ROLE wf_runner;
SELECT duroxide.start_workflow('$prefix-w' || i, 'three_writes', to_jsonb('$prefix-w' || i))
  FROM generate_series(1, $count) AS i;
COMMIT;
};
}
sub start_batch {
    my ($prefix, $count) = @_;
    $node->safe_psql('postgres', batch_sql($prefix, $count));
}

# Every workflow of the batch completes, correctly, exactly once.
sub check_batch {
    my ($prefix, $count, $label) = @_;
    my $completed = "SELECT count(*) FROM duroxide.instances i "
      . "JOIN duroxide.executions e ON e.instance_id = i.instance_id "
      . " AND e.execution_id = i.current_execution_id "
      . "WHERE i.instance_id LIKE '$prefix-%' AND e.status = 'Completed'";
    ok($node->poll_query_until('postgres', "SELECT ($completed) = 2 * $count"),
        "$label: all workflows complete");
    is($node->safe_psql('postgres', qq{
SELECT count(*) FROM generate_series(1, $count) AS i,
       LATERAL duroxide.get_orchestration_status('$prefix-p' || i) p,
       LATERAL duroxide.get_orchestration_status('$prefix-w' || i) w
 WHERE p.output = 'xxxx' AND w.output = to_jsonb('$prefix-w' || i)::text
}), $count, "$label: every output is correct");
    # Each history: events 1..8 once each (started, three scheduled and completed pairs,
    # completed), and three completions, each of a different activity.
    is($node->safe_psql('postgres', qq{
SELECT count(*) FROM (
    SELECT instance_id FROM duroxide.history WHERE instance_id LIKE '$prefix-%'
     GROUP BY instance_id, execution_id
    HAVING count(*) <> 8 OR count(DISTINCT event_id) <> 8 OR min(event_id) <> 1
        OR max(event_id) <> 8
        OR count(*) FILTER (WHERE event_type = 'ActivityCompleted') <> 3
        OR count(DISTINCT event_data::jsonb ->> 'source_event_id')
             FILTER (WHERE event_type = 'ActivityCompleted') <> 3) bad
}), '0', "$label: each history holds its 8 events once, each completion once");
    is($node->safe_psql('postgres', qq{
SELECT count(*) || ' ' || count(DISTINCT (instance, step)) FROM wf_effects
 WHERE instance LIKE '$prefix-%'}),
        (3 * $count) . ' ' . (3 * $count), "$label: each SQL step's write committed once");
    ok($node->poll_query_until('postgres',
            'SELECT (SELECT count(*) FROM duroxide.orchestrator_queue) + '
          . '(SELECT count(*) FROM duroxide.worker_queue) + '
          . '(SELECT count(*) FROM duroxide.instance_locks) = 0'),
        "$label: queues and instance locks are empty");
}

# --- (a) many workflows with inline turns
$node->safe_psql('postgres', 'SELECT duroxide.reset_metrics()');
start_batch('a', 100);
$node->safe_psql('postgres',
    "SELECT duroxide.start_orchestration('parent' || i, 'Parent', 'up' || i) "
  . "FROM generate_series(1, 10) AS i");
check_batch('a', 100, 'inline');
ok($node->poll_query_until('postgres', q{
SELECT count(*) = 10 FROM generate_series(1, 10) AS i,
       LATERAL duroxide.get_orchestration_status('parent' || i) s
 WHERE s.output = 'parent:UP' || i}), 'inline: sub-orchestrations complete, parents told');
# A plugin activity whose ctx.sql() wrote: its completion commits with its statements, and
# the turn it wakes (the orchestration's last) runs in that transaction too.
$node->safe_psql('postgres', 'CREATE TABLE sql_effects (input text)');
my $before_sql = metric('inline_turns');
$node->safe_psql('postgres',
    "SELECT duroxide.start_orchestration('effect' || i, 'CallActivity', 'RecordEffect:e' || i) "
  . "FROM generate_series(1, 10) AS i");
ok($node->poll_query_until('postgres', q{
SELECT count(*) = 10 FROM generate_series(1, 10) AS i,
       LATERAL duroxide.get_orchestration_status('effect' || i) s
 WHERE s.output = 'recorded e' || i || ' (1)'}), 'ctx.sql(): the activities complete');
is($node->safe_psql('postgres',
        "SELECT count(*) || ' ' || count(DISTINCT input) FROM sql_effects"),
    '10 10', 'ctx.sql(): each write committed once');
cmp_ok(metric('inline_turns') - $before_sql, '>=', 5,
    'ctx.sql(): the final turns ran inline, in the statements\' transaction');
my $turns = metric('orchestration_turns');
my $inline_turns = metric('inline_turns');
# 610 activities (and 10 children's) complete; with inline turns nearly every one's next turn
# runs in its worker: far fewer than half of all turns are the dispatchers'.
cmp_ok($inline_turns, '>=', 300, "inline: the turns ran inline ($inline_turns of $turns)");
cmp_ok($turns - $inline_turns, '<', $turns / 2,
    'inline: the dispatchers ran a minority of the turns (' . ($turns - $inline_turns) . ')');

# --- (b) activity workers killed (SIGKILL: the server reinitializes) under load, three times
my $workers = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'duroxide activity worker'";
start_batch('b', 150);
for my $round (1 .. 3) {
    my $done = $node->safe_psql('postgres',
        "SELECT count(*) FROM duroxide.history WHERE instance_id LIKE 'b-%' "
      . "AND event_type = 'OrchestrationCompleted'");
    last if $done >= 300;
    ok($node->poll_query_until('postgres', "SELECT count(*) > 0 FROM ($workers) w"),
        "kill $round: an activity worker runs");
    my ($pid) = split /\n/, $node->safe_psql('postgres', $workers);
    kill 'KILL', $pid;
    # Wait for the reinitialized server and for progress before the next kill.
    ok($node->poll_query_until('postgres',
            "SELECT count(*) > $done FROM duroxide.history WHERE instance_id LIKE 'b-%' "
          . "AND event_type = 'OrchestrationCompleted'"),
        "kill $round: work goes on after the kill");
}
check_batch('b', 150, 'SIGKILL under load');

# --- (c) each crash point of the inline path once
sub wait_for_log {
    my ($pattern, $from) = @_;
    my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
    while (time < $deadline) {
        my $log = slurp_file($node->logfile);
        return 1 if substr($log, $from) =~ $pattern;
        sleep 0.1;
    }
    return 0;
}
# Runs `sql` until it succeeds (the server may be reinitializing after a crash).
sub until_done {
    my ($sql) = @_;
    my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
    while (time < $deadline) {
        my ($rc) = $node->psql('postgres', $sql);
        return 1 if $rc == 0;
        sleep 0.1;
    }
    return 0;
}
for my $point ('inline_locked', 'inline_decided', 'inline_before_commit') {
    my $from = length(slurp_file($node->logfile));
    $node->safe_psql('postgres',
        "ALTER SYSTEM SET duroxide.debug_crash_point = '$point'; SELECT pg_reload_conf()");
    # The session may be ended by the crash it causes (after its commit).
    $node->psql('postgres', batch_sql("c-$point", 5));
    ok(wait_for_log(qr/crash point $point reached/, $from), "$point: a worker died there");
    # Back up (the server reinitialized), then no more crashes.
    ok(until_done('ALTER SYSTEM RESET duroxide.debug_crash_point; SELECT pg_reload_conf()'),
        "$point: the server is back, the crash point reset");
    check_batch("c-$point", 5, "crash at $point");
}

# --- (d) duroxide.inline_turns = auto: a commit's turns run inline only when they would
# otherwise wake an idle dispatcher for them alone (docs/architecture.md, "Inline turns").
# Settings change by restart, so that every worker surely runs with them.
sub configure {
    my (%set) = @_;
    $node->safe_psql('postgres',
        join('', map { "ALTER SYSTEM SET duroxide.$_ = '$set{$_}';" } sort keys %set));
    $node->restart;
}
# Starts Loop orchestrations one at a time, each after the previous one completed.
sub one_at_a_time {
    my ($prefix, $count) = @_;
    for my $i (1 .. $count) {
        $node->safe_psql('postgres',
            "SELECT duroxide.start_orchestration('$prefix-$i', 'Loop', 'x')");
        $node->poll_query_until('postgres',
            "SELECT output = 'xxxx' FROM duroxide.get_orchestration_status('$prefix-$i')")
          or return 0;
    }
    return 1;
}
# Each of the prefix's histories holds its 8 events once (three completions, of different
# activities), and nothing is left queued or locked.
sub exact_histories {
    my ($prefix, $count, $label) = @_;
    is($node->safe_psql('postgres', qq{
SELECT count(DISTINCT instance_id) || ' ' || count(*) FROM duroxide.history
 WHERE instance_id LIKE '$prefix-%'}), "$count " . (8 * $count), "$label: 8 events each");
    is($node->safe_psql('postgres', qq{
SELECT count(*) FROM (
    SELECT instance_id FROM duroxide.history WHERE instance_id LIKE '$prefix-%'
     GROUP BY instance_id, execution_id
    HAVING count(DISTINCT event_id) <> 8 OR min(event_id) <> 1 OR max(event_id) <> 8
        OR count(DISTINCT event_data::jsonb ->> 'source_event_id')
             FILTER (WHERE event_type = 'ActivityCompleted') <> 3) bad
}), '0', "$label: each history holds its events once, each completion once");
    ok($node->poll_query_until('postgres',
            'SELECT (SELECT count(*) FROM duroxide.orchestrator_queue) + '
          . '(SELECT count(*) FROM duroxide.worker_queue) + '
          . '(SELECT count(*) FROM duroxide.instance_locks) = 0'),
        "$label: queues and instance locks are empty");
}

# (d1) One at a time, nothing else running: the dispatchers are idle when each completion is
# recorded and the worker's queue is empty, so the turns run inline.
configure(inline_turns => 'auto');
my $before_auto = metric('inline_turns');
ok(one_at_a_time('d1', 8), 'auto, one at a time: the workflows complete');
exact_histories('d1', 8, 'auto, one at a time');
my $auto_inline = metric('inline_turns') - $before_auto;
# 24 completions; a dispatcher still finishing its previous unit (its last, empty fetch) when
# one is recorded gets that turn: most of them, not necessarily all, run inline.
cmp_ok($auto_inline, '>=', 12, "auto, one at a time: the turns ran inline ($auto_inline of 24)");

# (d2) A worker whose every unit ends with a full batch (duroxide.activity_batch = 1: it cannot
# tell that its queue is empty) has more work waiting as far as it knows: none inline.
configure(activity_batch => '1');
$before_auto = metric('inline_turns');
ok(one_at_a_time('d2', 4), 'auto, worker backlogged: the workflows complete');
exact_histories('d2', 4, 'auto, worker backlogged');
is(metric('inline_turns') - $before_auto, 0, 'auto, worker backlogged: no turn ran inline');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET duroxide.activity_batch');
$node->restart;

# (d3) A dispatcher busy (blocked in its schedules look behind a table lock) when the
# completion is recorded: its turn is left to the dispatcher, which runs it once free. The
# workflow's first SQL step waits behind a lock on wf_effects until the dispatcher is stuck.
$before_auto = metric('inline_turns');
my $effects = $node->background_psql('postgres');
$effects->query_safe('BEGIN; LOCK TABLE wf_effects IN ACCESS EXCLUSIVE MODE');
$node->safe_psql('postgres',
    "SET ROLE wf_runner; SELECT duroxide.start_workflow('d3-w', 'three_writes', '\"d3-w\"')");
ok($node->poll_query_until('postgres', q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE backend_type = 'duroxide activity worker' AND wait_event_type = 'Lock'}),
    'auto, dispatcher busy: the first step waits for wf_effects');
my $schedules = $node->background_psql('postgres');
$schedules->query_safe('BEGIN; LOCK TABLE duroxide.schedules IN ACCESS EXCLUSIVE MODE');
ok($node->poll_query_until('postgres', q{
SELECT count(*) FILTER (WHERE wait_event_type = 'Lock') = count(*) AND count(*) > 0
  FROM pg_stat_activity WHERE backend_type = 'duroxide dispatcher'}),
    'auto, dispatcher busy: every dispatcher waits in its schedules look');
$effects->query_safe('COMMIT');
ok($node->poll_query_until('postgres', q{
SELECT (SELECT count(*) FROM duroxide.worker_queue) = 0
   AND (SELECT count(*) FROM duroxide.orchestrator_queue WHERE instance_id = 'd3-w') = 1}),
    'auto, dispatcher busy: the completion is recorded and left queued for the dispatcher');
is(metric('inline_turns') - $before_auto, 0, 'auto, dispatcher busy: its turn did not run inline');
$schedules->query_safe('COMMIT');
$effects->quit;
$schedules->quit;
ok($node->poll_query_until('postgres',
        "SELECT output = '\"d3-w\"' FROM duroxide.get_orchestration_status('d3-w')"),
    'auto, dispatcher busy: the workflow completes once the dispatcher is free');
is($node->safe_psql('postgres', q{
SELECT count(*) || ' ' || count(DISTINCT step) FROM wf_effects WHERE instance = 'd3-w'}),
    '3 3', "auto, dispatcher busy: each SQL step's write committed once");
is($node->safe_psql('postgres', q{
SELECT count(*) || ' ' || count(DISTINCT event_id) || ' ' || max(event_id)
  FROM duroxide.history WHERE instance_id = 'd3-w'}), '8 8 8',
    'auto, dispatcher busy: the history holds its 8 events once');

# (d4) auto at each crash point: a worker that dies inside an auto inline turn loses and
# duplicates nothing either (one workflow at a time, so the turns do run inline).
for my $point ('inline_locked', 'inline_before_commit') {
    my $from = length(slurp_file($node->logfile));
    $node->safe_psql('postgres',
        "ALTER SYSTEM SET duroxide.debug_crash_point = '$point'; SELECT pg_reload_conf()");
    $node->psql('postgres',
        "SELECT duroxide.start_orchestration('d4-$point-1', 'Loop', 'x')");
    ok(wait_for_log(qr/crash point $point reached/, $from), "auto, $point: a worker died there");
    ok(until_done('ALTER SYSTEM RESET duroxide.debug_crash_point; SELECT pg_reload_conf()'),
        "auto, $point: the server is back, the crash point reset");
    ok($node->poll_query_until('postgres',
            "SELECT output = 'xxxx' FROM duroxide.get_orchestration_status('d4-$point-1')"),
        "auto, $point: the workflow completes");
    exact_histories("d4-$point", 1, "auto, crash at $point");
}

$node->stop('fast');
unlike(slurp_file($node->logfile), qr/PANIC|was terminated by signal 11/, 'no PANIC, no segfault');
done_testing();
