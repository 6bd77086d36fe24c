# Failover to a synchronous streaming-replication standby (issue 20 item 1).
#
# (a) On the hot standby duroxide runs no launcher, dispatcher or worker; every VOLATILE function
#     of the extension (the client functions that write, and the internal ones) is refused with
#     SQLSTATE 25006, its name and a hint to connect to the primary, except the reads listed in
#     src/runtime/process/standby_guard.cpp (kept in step with @reads below); no STABLE or
#     IMMUTABLE function of the extension is refused as a write; reads (status, history,
#     lists, views, waits) work there with real arguments.
# (b) A few hundred SQL workflows whose three SQL steps each write a row run on the primary; the
#     primary is stopped with -m immediate mid-load; every workflow a client saw completed on the
#     primary is completed on the standby (synchronous commit); the standby is promoted, its
#     workers start by themselves, every workflow completes with each history event once, each
#     activity completion once, and each step's write exactly once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $n = 200;
# Leases of one hour: on the promoted server the dead primary's leases must be released because
# their owners are not live workers there, not because they expire.
my $primary = duroxide_node('primary', init => { allows_streaming => 1 }, leases => '1h', conf => q{
duroxide.activity_workers = 2
lc_messages = 'C'
});
define_three_writes($primary, 0.02);
$primary->safe_psql('postgres', q{
SET ROLE wf_runner;
SELECT duroxide.start_workflow('pre-1', 'three_writes', to_jsonb('pre-1'::text));
});

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->append_conf('postgresql.conf', "synchronous_standby_names = '*'");
$primary->reload;
ok($primary->poll_query_until('postgres',
        "SELECT count(*) = 1 FROM pg_stat_replication WHERE sync_state = 'sync'"),
    'the standby replicates synchronously');
ok($primary->poll_query_until('postgres',
        "SELECT status = 'Completed' FROM duroxide.get_orchestration_status('pre-1')"),
    'a workflow completes on the primary');
$primary->wait_for_catchup($standby);

# --- (a) the standby: no process, writes refused, reads work
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
is($standby->safe_psql('postgres',
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'duroxide%'"),
    '0', 'no duroxide launcher, dispatcher or worker runs on the standby');
cmp_ok($primary->safe_psql('postgres',
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'duroxide%'"),
    '>=', 4, 'while the primary runs its launcher, dispatcher and workers');

# Every VOLATILE function of the extension's schemas (trigger functions aside: only a write
# fires them) is called with non-null arguments of its types; the reads below are allowed.
my @reads = qw(get_runtime_status get_metrics monitoring_metrics monitoring_processes
  wait_for_orchestration wait_for_status_change wait_for_kv_value _await_status_change
  _status_change_count _lock_holder_alive _session_owner_pid _written_by_this_transaction);
my %is_read = map { $_ => 1 } @reads;
# Calls of the extension's functions of the given volatilities, one per line:
# schema|name|arguments (values of the argument types; NULL for a row type).
sub calls_of {
    my ($volatilities) = @_;
    return split /\n/, $standby->safe_psql('postgres', qq{
SELECT n.nspname, p.proname,
       coalesce((SELECT string_agg(format('%L::%s',
                     CASE WHEN t IN ('integer'::regtype, 'bigint'::regtype) THEN '1'
                          WHEN t = 'boolean'::regtype THEN 'false'
                          WHEN t = 'interval'::regtype THEN '1 ms'
                          WHEN t = 'timestamptz'::regtype THEN '2000-01-01'
                          WHEN t IN ('jsonb'::regtype, 'json'::regtype) THEN '"x"'
                          WHEN t = 'regprocedure'::regtype THEN 'now()'
                          WHEN t = 'regrole'::regtype THEN 'wf_runner'
                          WHEN t = 'regrole[]'::regtype THEN '{wf_runner}'
                          WHEN t = 'text[]'::regtype THEN '{x}'
                          WHEN t IN ('xid'::regtype, 'oid'::regtype) THEN '1'
                          -- a row type (a table's): NULL, which %L prints unquoted; the
                          -- guard refuses the call before the body could look at it
                          WHEN (SELECT typtype FROM pg_type WHERE oid = t) = 'c' THEN NULL
                          ELSE 'x' END, format_type(t, NULL)), ', ' ORDER BY i)
                   FROM unnest(p.proargtypes::oid[]::regtype[]) WITH ORDINALITY AS a(t, i)), '')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('duroxide', 'duroxide_internal') AND p.provolatile IN ($volatilities)
   AND p.prorettype <> 'trigger'::regtype AND p.prokind = 'f'
 ORDER BY 1, 2, 3
});
}
sub call_on_standby {
    my ($schema, $name, $args) = @_;
    my ($stdout, $stderr) = ('', '');
    $standby->psql('postgres', "\\set VERBOSITY verbose\nSELECT $schema.$name($args)",
        stdout => \$stdout, stderr => \$stderr);
    return $stderr;
}
my ($refused, $allowed) = (0, 0);
for my $line (calls_of("'v'")) {
    my ($schema, $name, $args) = split /\|/, $line, 3;
    my $stderr = call_on_standby($schema, $name, $args);
    if ($is_read{$name}) {
        $allowed++;
        unlike($stderr, qr/25006|standby/, "standby: the read $name($args) is not refused");
    } else {
        $refused++;
        like($stderr,
            qr/ERROR:  25006: \Q$schema.$name\E\(\) writes and cannot run on a standby server.*HINT:  Connect to the primary server/s,
            "standby: $schema.$name($args) is refused with 25006, its name and the hint");
    }
}
cmp_ok($refused, '>=', 30, "standby: $refused writing functions were called");
is($allowed, scalar(@reads), 'standby: every listed read exists and was called');
# The STABLE and IMMUTABLE functions only read: none of them may fail with 25006 (PostgreSQL's
# own refusal of a write in recovery has that code too), whatever else bad arguments make them say.
my @stable = calls_of("'s', 'i'");
my @refused_reads = grep {
    my ($schema, $name, $args) = split /\|/, $_, 3;
    call_on_standby($schema, $name, $args) =~ /ERROR:  25006/
} @stable;
cmp_ok(scalar(@stable), '>=', 40, 'standby: ' . scalar(@stable) . ' STABLE or IMMUTABLE functions were called');
is(join(', ', @refused_reads), '', 'standby: none of them is refused as a write');

# Reads with real arguments.
is($standby->safe_psql('postgres', q{
SELECT status || ' ' || output FROM duroxide.get_orchestration_status('pre-1')}),
    'Completed "pre-1"', 'standby: get_orchestration_status');
is($standby->safe_psql('postgres',
        "SELECT count(*) FROM duroxide.read_history('pre-1')"), '8', 'standby: read_history');
is($standby->safe_psql('postgres',
        "SELECT status FROM duroxide.wait_for_orchestration('pre-1', interval '1 s')"),
    'Completed', 'standby: wait_for_orchestration of a finished instance');
for my $view (qw(metrics runtime_status queue_depths instance_counts system_metrics
                 instances_overview metrics_by_name sessions workflows registered_handlers)) {
    my ($ret, $stdout, $stderr) = $standby->psql('postgres', "SELECT count(*) FROM duroxide.$view");
    is($ret, 0, "standby: the view duroxide.$view reads ($stderr)");
}
is($standby->safe_psql('postgres',
        "SELECT count(*) FROM duroxide.runtime_status"), '0', 'standby: runtime_status lists no process');

# A wait on the standby sees an instance that runs on the primary end (replayed; the standby has
# no dispatcher to wake it, its safety-net poll does).
$primary->safe_psql('postgres', q{
SET ROLE wf_runner;
SELECT duroxide.define_workflow('nap', '{"kind": "sleep", "duration": 1500}');
SELECT duroxide.start_workflow('nap-1', 'nap', 'null');
});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', "SELECT status FROM duroxide.get_orchestration_status('nap-1')"),
    'Running', 'standby: an instance runs on the primary');
is($standby->safe_psql('postgres',
        "SELECT status FROM duroxide.wait_for_orchestration('nap-1', interval '60 s')"),
    'Completed', 'standby: wait_for_orchestration returns when the primary completes it');

# --- (b) the load, the crash, the promotion
$primary->safe_psql('postgres', qq{
SET ROLE wf_runner;
SELECT duroxide.start_workflow('wf-' || i, 'three_writes', to_jsonb('wf-' || i))
  FROM generate_series(1, $n) AS i;
});
my $completed_list = "SELECT string_agg(instance_id, ',' ORDER BY instance_id) FROM duroxide.executions "
  . "WHERE status = 'Completed' AND instance_id LIKE 'wf-%'";
my $completed = "SELECT count(*) FROM duroxide.executions WHERE status = 'Completed' AND instance_id LIKE 'wf-%'";
ok($primary->poll_query_until('postgres', "SELECT ($completed) >= 20"), 'workflows complete on the primary');
my @seen = split /,/, $primary->safe_psql('postgres', $completed_list);
$primary->stop('immediate');
cmp_ok(scalar(@seen), '<', $n, 'the primary was stopped mid-load (' . scalar(@seen) . " of $n complete)");

ok($standby->poll_query_until('postgres',
        'SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()'), 'the standby replayed what it received');
my %on_standby = map { $_ => 1 } split /,/, $standby->safe_psql('postgres', $completed_list);
is(scalar(grep { !$on_standby{$_} } @seen), 0,
    'every workflow a client saw completed on the primary is completed on the standby');
# An activity's write and its completion committed together: each write on the standby has its
# completion there (in history or still queued for the orchestration), and each completion its write.
is($standby->safe_psql('postgres', q{
SELECT count(*) FROM (
    SELECT instance_id, count(*) AS completions FROM (
        SELECT instance_id FROM duroxide.history
         WHERE instance_id LIKE 'wf-%' AND event_type = 'ActivityCompleted'
        UNION ALL
        SELECT instance_id FROM duroxide.orchestrator_queue
         WHERE instance_id LIKE 'wf-%' AND work_item::jsonb ? 'ActivityCompleted') c
     GROUP BY instance_id) c
  FULL JOIN (SELECT instance AS instance_id, count(*) AS writes FROM wf_effects
              WHERE instance LIKE 'wf-%' GROUP BY instance) w USING (instance_id)
 WHERE completions IS DISTINCT FROM writes
}), '0', 'on the standby every write has its completion and every completion its write');

$standby->promote;
ok($standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'), 'the standby is promoted');
ok($standby->poll_query_until('postgres', q{
SELECT count(*) FILTER (WHERE backend_type = 'duroxide launcher') = 1
   AND count(*) FILTER (WHERE backend_type = 'duroxide dispatcher') >= 1
   AND count(*) FILTER (WHERE backend_type = 'duroxide activity worker') = 2
  FROM pg_stat_activity}), 'the promoted server starts its launcher, dispatcher and workers by itself');
ok($standby->poll_query_until('postgres', "SELECT ($completed) = $n"),
    "all $n workflows complete on the promoted server");
is($standby->safe_psql('postgres', qq{
SELECT count(*) FROM generate_series(1, $n) AS i,
       LATERAL duroxide.get_orchestration_status('wf-' || i) s
 WHERE s.output = to_jsonb('wf-' || i)::text
}), $n, 'every output is correct');
is($standby->safe_psql('postgres', q{
SELECT count(*) FROM (
    SELECT instance_id FROM duroxide.history WHERE instance_id LIKE 'wf-%'
     GROUP BY instance_id, execution_id
    HAVING count(*) <> 8 OR count(DISTINCT event_id) <> 8 OR max(event_id) <> 8
        OR count(*) FILTER (WHERE event_type = 'ActivityCompleted') <> 3
        OR count(DISTINCT (event_data::jsonb ->> 'source_event_id'))
               FILTER (WHERE event_type = 'ActivityCompleted') <> 3) bad
}), '0', 'each history holds events 1..8 once and each activity completion once');
is($standby->safe_psql('postgres', q{
SELECT count(*) || ' ' || count(DISTINCT (instance, step)) FROM wf_effects WHERE instance LIKE 'wf-%'}),
    (3 * $n) . ' ' . (3 * $n), 'each step\'s write committed exactly once');
is($standby->safe_psql('postgres',
        'SELECT (SELECT count(*) FROM duroxide.orchestrator_queue) + '
      . '(SELECT count(*) FROM duroxide.worker_queue) + '
      . '(SELECT count(*) FROM duroxide.instance_locks)'),
    '0', 'queues and locks are empty');

# The promoted server accepts writes again.
$standby->safe_psql('postgres',
    "SET ROLE wf_runner; SELECT duroxide.start_workflow('post-1', 'three_writes', to_jsonb('post-1'::text))");
ok($standby->poll_query_until('postgres',
        "SELECT status = 'Completed' FROM duroxide.get_orchestration_status('post-1')"),
    'a workflow started after the promotion completes');

$standby->stop('fast');
unlike(slurp_file($standby->logfile), qr/PANIC|was terminated by signal/, 'no crash in the standby\'s log');
done_testing();
