# First turns in the creating transaction (duroxide.child_first_turn, docs/architecture.md
# "First turns in the creating transaction"): a child's first turn runs in its parent's ack.
# (a) With the setting off, then on, the same parents run: the children's histories are
# identical event for event (timestamps aside), and with it on each child's first event
# committed in the same transaction as its parent's SubOrchestrationScheduled (commit
# timestamps of their rows), which it did not with it off. (b) An id in use falls back to the
# start message (the "already in use" refusal is unchanged); a child whose code fails in its
# first turn fails, and its parent's turn commits and is told. (c) The dispatcher killed
# (SIGKILL) under load and at each crash point of the path loses and duplicates nothing.
# DUROXIDE_TEST_CHILD_FIRST_TURN=off runs the file with the setting off throughout: the
# "same transaction" checks then fail, as they did before this path existed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $enabled = ($ENV{DUROXIDE_TEST_CHILD_FIRST_TURN} // 'on') eq 'on';
my $node = PostgreSQL::Test::Cluster->new('first_turns');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'duroxide'
duroxide.plugin_directories = '$ENV{DUROXIDE_PLUGIN_DIR}'
duroxide.activity_workers = 2
duroxide.worker_lock_timeout = '1h'
duroxide.orchestration_lock_timeout = '1h'
duroxide.child_first_turn = off
track_commit_timestamp = on
max_worker_processes = 16
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION duroxide;
SELECT duroxide.register_plugin('duroxide_sample');
});

sub metric {
    my ($name) = @_;
    return $node->safe_psql('postgres',
        "SELECT value FROM duroxide.metrics WHERE metric = '$name'");
}

sub start_parents {
    my ($prefix, $count) = @_;
    $node->safe_psql('postgres',
        "SELECT duroxide.start_orchestration('$prefix' || i, 'ParentFan', 'in' || i) "
      . "FROM generate_series(1, $count) AS i");
}

# Each parent completed with its children's outputs, each child once with its 4 events, and
# the queues and locks ended empty.
sub check_parents {
    my ($prefix, $count, $label) = @_;
    ok($node->poll_query_until('postgres', qq{
SELECT count(*) = $count FROM generate_series(1, $count) AS i,
       LATERAL duroxide.get_orchestration_status('$prefix' || i) s
 WHERE s.output = 'IN' || i || '+IN' || i || '!'}), "$label: every parent completes, told by both children");
    is($node->safe_psql('postgres', qq{
SELECT count(*) || ' ' || count(*) FILTER (WHERE n = 4 AND d = 4 AND done = 1)
  FROM (SELECT instance_id, count(*) AS n, count(DISTINCT event_id) AS d,
               count(*) FILTER (WHERE event_type = 'OrchestrationCompleted') AS done
          FROM duroxide.history
         WHERE instance_id IN (SELECT instance_id FROM duroxide.instances
                                WHERE parent_instance_id LIKE '$prefix%')
         GROUP BY instance_id) c}),
        (2 * $count) . ' ' . (2 * $count), "$label: each child ran once, its 4 events once");
    ok($node->poll_query_until('postgres',
            'SELECT (SELECT count(*) FROM duroxide.orchestrator_queue) + '
          . '(SELECT count(*) FROM duroxide.worker_queue) + '
          . '(SELECT count(*) FROM duroxide.instance_locks WHERE lock_token IS NOT NULL) = 0'),
        "$label: queues empty, no instance locked");
}

# How many children of the parents named `prefix`* committed their first event in the
# transaction of their parent's SubOrchestrationScheduled event.
sub children_in_parent_commit {
    my ($prefix) = @_;
    return $node->safe_psql('postgres', qq{
SELECT count(*) FROM duroxide.instances c
  JOIN duroxide.history ch ON ch.instance_id = c.instance_id AND ch.event_id = 1
 WHERE c.parent_instance_id LIKE '$prefix%'
   AND EXISTS (SELECT 1 FROM duroxide.history ph
                WHERE ph.instance_id = c.parent_instance_id
                  AND ph.event_type = 'SubOrchestrationScheduled'
                  AND pg_xact_commit_timestamp(ph.xmin) = pg_xact_commit_timestamp(ch.xmin))});
}

# A child's history, timestamps and its own instance id left out, in event order.
sub child_histories {
    my ($prefix) = @_;
    return $node->safe_psql('postgres', qq{
SELECT string_agg(h.event_id || ' ' || h.event_type || ' '
         || regexp_replace((h.event_data::jsonb - 'timestamp_ms')::text,
                           '"$prefix([0-9])', '"P\\1', 'g'), E'\\n' ORDER BY c.instance_id, h.event_id)
  FROM duroxide.instances c JOIN duroxide.history h ON h.instance_id = c.instance_id
 WHERE c.parent_instance_id LIKE '$prefix%'});
}

# --- (a) off, then on: identical histories, and the children's first turns moved
start_parents('off', 10);
check_parents('off', 10, 'setting off');
is(children_in_parent_commit('off'), '0', 'setting off: no child started in its parent\'s commit');

if ($enabled) {
    $node->safe_psql('postgres',
        "ALTER SYSTEM SET duroxide.child_first_turn = on; SELECT pg_reload_conf()");
    # The dispatchers read the reload at their next loop: probe until a child starts in its
    # parent's commit.
    my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
    my $probe = 0;
    while (time < $deadline) {
        $probe++;
        $node->safe_psql('postgres',
            "SELECT duroxide.start_orchestration('probe$probe', 'ParentFan', 'x')");
        last if $node->poll_query_until('postgres',
            "SELECT count(*) > 0 FROM duroxide.instances WHERE parent_instance_id = 'probe$probe'")
            && children_in_parent_commit("probe$probe") > 0;
    }
    ok(children_in_parent_commit("probe$probe") > 0, 'setting on: read by the dispatchers');
}
$node->safe_psql('postgres', 'SELECT duroxide.reset_metrics()');
start_parents('on', 10);
check_parents('on', 10, 'setting on');
is(children_in_parent_commit('on'), '20',
    'setting on: every child\'s first turn committed with its parent\'s turn');
cmp_ok(metric('first_turns'), '>=', 20, 'setting on: counted as first turns');
is(child_histories('on'), child_histories('off'),
    'the children\'s histories are identical either way, event for event');

# --- (b) an id in use; a child whose code fails
$node->safe_psql('postgres',
    "SELECT duroxide.start_orchestration('taken', 'HelloWorld', 'x')");
ok($node->poll_query_until('postgres',
        "SELECT status = 'Completed' FROM duroxide.get_orchestration_status('taken')"),
    'an instance "taken" exists');
$node->safe_psql('postgres',
    "SELECT duroxide.start_orchestration('named', 'NamedChild', 'taken')");
ok($node->poll_query_until('postgres',
        "SELECT output LIKE 'failed:%' FROM duroxide.get_orchestration_status('named')"),
    'an id in use: the child start is refused as before');
is($node->safe_psql('postgres',
        "SELECT orchestration_name || ' ' || current_execution_id FROM duroxide.instances "
      . "WHERE instance_id = 'taken'"), 'HelloWorld 1', 'an id in use: that instance is untouched');
$node->safe_psql('postgres',
    "SELECT duroxide.start_orchestration('thrower' || i, 'ParentOfThrower', 'v' || i) "
  . "FROM generate_series(1, 5) AS i");
ok($node->poll_query_until('postgres', q{
SELECT count(*) = 5 FROM generate_series(1, 5) AS i,
       LATERAL duroxide.get_orchestration_status('thrower' || i) s
 WHERE s.status = 'Completed' AND s.output LIKE 'failed:%child code failed on v' || i || '%'}),
    'a child whose code fails: it fails, its parent completes and is told');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM duroxide.instances c
  JOIN duroxide.executions e ON e.instance_id = c.instance_id
 WHERE c.parent_instance_id LIKE 'thrower%' AND e.status = 'Failed'}), '5',
    'a child whose code fails: each child failed once');
is(children_in_parent_commit('thrower'), $enabled ? '5' : '0',
    'a child whose code fails: in its parent\'s commit');

# --- (c) the dispatcher killed under load, then each crash point of the path
my $dispatchers = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'duroxide dispatcher'";
start_parents('k', 60);
ok($node->poll_query_until('postgres', "SELECT count(*) > 0 FROM ($dispatchers) d"),
    'kill: a dispatcher runs');
my ($pid) = split /\n/, $node->safe_psql('postgres', $dispatchers);
kill 'KILL', $pid;
check_parents('k', 60, 'dispatcher killed under load');

sub log_has {
    my ($pattern, $from) = @_;
    return substr(slurp_file($node->logfile), $from) =~ $pattern;
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
if ($enabled) {
    for my $point ('child_first_locked', 'child_first_decided') {
        my $from = length(slurp_file($node->logfile));
        $node->safe_psql('postgres',
            "ALTER SYSTEM SET duroxide.debug_crash_point = '$point'; SELECT pg_reload_conf()");
        # Parents started one by one until the point is reached (the reload reaches the
        # dispatchers at their next loop); a start is retried while the server restarts.
        my $n = 0;
        my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
        while (time < $deadline && !log_has(qr/crash point $point reached/, $from)) {
            $n++;
            my $id = "c-$point-$n";
            until_done("SELECT duroxide.start_orchestration('$id', 'ParentFan', 'in$n') "
                . "WHERE NOT EXISTS (SELECT 1 FROM duroxide.orchestrator_queue WHERE instance_id = '$id') "
                . "AND NOT EXISTS (SELECT 1 FROM duroxide.instances WHERE instance_id = '$id')");
            sleep 0.2 unless log_has(qr/crash point $point reached/, $from);
        }
        ok(log_has(qr/crash point $point reached/, $from), "$point: a dispatcher died there");
        ok(until_done('ALTER SYSTEM RESET duroxide.debug_crash_point; SELECT pg_reload_conf()'),
            "$point: the server is back, the crash point reset");
        check_parents("c-$point-", $n, "crash at $point");
    }
}

$node->stop('fast');
unlike(slurp_file($node->logfile), qr/PANIC|was terminated by signal 11/, 'no PANIC, no segfault');
done_testing();
