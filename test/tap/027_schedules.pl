# Recurring schedules fired by the dispatchers (issue 22): deterministic instance ids
# (schedule:<name>:<fire time>), each fire started exactly once with two dispatchers and across a
# kill -9 of a dispatcher in the middle of a backfill, plugin orchestrations and SQL workflows,
# a time zone, catch-up policies (backfill_all, run_once, bounded, skip_missed), overlap policies (skip,
# buffer_one, allow_all), pause and resume. No test waits for a minute boundary: schedules start
# in the past (option start_at), so their missed fires are due at once, and every check polls.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = duroxide_node('schedules', plugin_dir => 1, conf => q{
duroxide.orchestration_dispatchers = 2
duroxide.activity_workers = 1
duroxide.poll_interval = '100ms'
restart_after_crash = on
});
$node->safe_psql('postgres', q{
CREATE ROLE app LOGIN;
GRANT duroxide_user TO app;
-- The runs are app's instances: their activities run only if app may call them.
SELECT duroxide.register_plugin('duroxide_sample', allowed_roles => ARRAY['app'::regrole]);
SET ROLE app;
SELECT duroxide.define_workflow('echo', '{"kind": "return", "value": {"$expr": "$input"}}');
});
my $dispatchers = q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'duroxide dispatcher'};
ok($node->poll_query_until('postgres', "SELECT ($dispatchers) = 2"), 'two dispatchers run');

sub app_sql {
    my ($sql) = @_;
    return $node->safe_psql('postgres', "SET ROLE app; $sql");
}

# Caught up: the schedule's next fire is in the future and nothing is pending.
sub caught_up {
    my ($name) = @_;
    return $node->poll_query_until('postgres', qq{
        SELECT next_fire_at > now() AND pending_fire_at IS NULL
          FROM duroxide.list_schedules() WHERE name = '$name'});
}

# The instance ids of the fires of a daily 03:00 UTC schedule after "from" and before "to".
sub daily_ids {
    my ($name, $from, $to) = @_;
    return qq{
        SELECT 'schedule:$name:' || to_char(g AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS id
          FROM generate_series(date_trunc('day', ($from) AT TIME ZONE 'UTC') + interval '3 h',
                               ($to) AT TIME ZONE 'UTC', interval '1 day') g
         WHERE g AT TIME ZONE 'UTC' > ($from) AND g AT TIME ZONE 'UTC' < ($to)};
}

sub started_ids {
    my ($name) = @_;
    return "SELECT instance_id AS id FROM duroxide.instances WHERE instance_id LIKE 'schedule:$name:%'";
}

# Whether two id queries give the same set; the differences otherwise.
sub same_ids {
    my ($a, $b) = @_;
    my $extra = $node->safe_psql('postgres', "SELECT count(*) FROM (($a) EXCEPT ($b)) x");
    my $missing = $node->safe_psql('postgres', "SELECT count(*) FROM (($b) EXCEPT ($a)) x");
    return "extra $extra, missing $missing";
}

# 1. Backfill, allow_all, a plugin orchestration, two dispatchers: every fire of 200 missed
# days is started once (two looks of at most 100 fires each, and then some), as instance
# schedule:<name>:<fire time>, owned by the schedule's owner, with the schedule's input.
my $bf_start = "(SELECT now() - interval '200 days')";
my $bf_from = $node->safe_psql('postgres', "SELECT $bf_start");
app_sql(qq{SELECT duroxide.create_schedule('bf', '0 3 * * *', 'HelloWorld', 'sched',
    jsonb_build_object('catch_up', 'backfill_all', 'overlap', 'allow_all', 'start_at', '$bf_from'))});
ok(caught_up('bf'), 'the backfill caught up');
my $bf_next = $node->safe_psql('postgres', "SELECT next_fire_at FROM duroxide.list_schedules() WHERE name = 'bf'");
is(same_ids(started_ids('bf'), daily_ids('bf', "'$bf_from'::timestamptz", "'$bf_next'::timestamptz")),
   'extra 0, missing 0', 'exactly the missed fires were started');
my $bf_count = $node->safe_psql('postgres', "SELECT count(*) FROM (" . started_ids('bf') . ") s");
cmp_ok($bf_count, '>=', 199, 'about 200 fires');
is($node->safe_psql('postgres', "SELECT fires FROM duroxide.list_schedules() WHERE name = 'bf'"),
   $bf_count, 'the schedule counts each start once');
my $yesterday = $node->safe_psql('postgres',
    q{SELECT to_char(date_trunc('day', now() AT TIME ZONE 'UTC') - interval '1 day', 'YYYY-MM-DD')});
is(app_sql(qq{SELECT w.status || ' ' || coalesce(w.output, w.error::text)
                 FROM duroxide.wait_for_orchestration('schedule:bf:${yesterday}T03:00:00Z', '60 s') w}),
   'Completed Hello, sched!', 'a run has the deterministic id and the schedule\'s input');
is($node->safe_psql('postgres', qq{
    SELECT owner_role::regrole FROM duroxide.instances WHERE instance_id = 'schedule:bf:${yesterday}T03:00:00Z'}),
   'app', 'the run is owned by the schedule\'s owner');
is($node->safe_psql('postgres', qq{
    SELECT count(*) FROM duroxide.instances i
     WHERE i.instance_id LIKE 'schedule:bf:%' AND i.owner_role <> 'app'::regrole}),
   '0', 'every run is owned by the schedule\'s owner');
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM (SELECT instance_id FROM duroxide.history
                           WHERE instance_id LIKE 'schedule:bf:%' AND event_type = 'OrchestrationStarted'
                           GROUP BY instance_id HAVING count(*) > 1) d}),
   '0', 'no run was started twice');

# 2. An SQL workflow, run_once: after 10 missed days only the latest fire runs, as the owner,
# with the schedule's JSON input.
my $wf_from = $node->safe_psql('postgres', "SELECT now() - interval '10 days'");
app_sql(qq{SELECT duroxide.create_schedule('wf', '0 3 * * *', 'echo', '{"n": 7}',
    jsonb_build_object('kind', 'workflow', 'catch_up', 'run_once', 'start_at', '$wf_from'))});
ok(caught_up('wf'), 'the workflow schedule caught up');
my $wf_latest = $node->safe_psql('postgres',
    "SELECT max(id) FROM (" . daily_ids('wf', "'$wf_from'::timestamptz", 'now()') . ") d");
is($node->safe_psql('postgres', "SELECT string_agg(id, ',') FROM (" . started_ids('wf') . ") s"),
   $wf_latest, 'run_once started only the latest missed fire');
is($node->safe_psql('postgres', qq{
    SET ROLE app;
    SELECT w.status || ' ' || w.output FROM duroxide.wait_for_orchestration('$wf_latest', '60 s') w}),
   'Completed {"n":7}', 'the workflow run completed with the schedule\'s input');

# 3. bounded: the latest 3 of 10 missed fires; skip_missed: none of them.
my $b_from = $node->safe_psql('postgres', "SELECT now() - interval '10 days'");
app_sql(qq{SELECT duroxide.create_schedule('bounded', '0 3 * * *', 'HelloWorld', 'b',
    jsonb_build_object('catch_up', 'bounded', 'catch_up_max', 3, 'overlap', 'allow_all',
                       'start_at', '$b_from'));
  SELECT duroxide.create_schedule('skipped', '0 3 * * *', 'HelloWorld', 's',
    jsonb_build_object('catch_up', 'skip_missed', 'start_at', '$b_from'))});
ok(caught_up('bounded') && caught_up('skipped'), 'bounded and skip_missed caught up');
is(same_ids(started_ids('bounded'),
            "SELECT id FROM (" . daily_ids('bounded', "'$b_from'::timestamptz", 'now()') . ") d ORDER BY id DESC LIMIT 3"),
   'extra 0, missing 0', 'bounded started the latest 3 missed fires');
is($node->safe_psql('postgres', "SELECT count(*) FROM (" . started_ids('bounded') . ") s"), '3', 'three runs');
is($node->safe_psql('postgres', "SELECT count(*) FROM (" . started_ids('skipped') . ") s"),
   '0', 'skip_missed started none of the missed fires');

# A time zone: 08:30 in Kolkata (UTC+05:30) is 03:00 UTC; the ids carry the UTC fire time.
my $z_from = $node->safe_psql('postgres', "SELECT now() - interval '4 days'");
app_sql(qq{SELECT duroxide.create_schedule('zone', '30 8 * * *', 'HelloWorld', 'z',
    jsonb_build_object('time_zone', 'Asia/Kolkata', 'catch_up', 'backfill_all',
                       'overlap', 'allow_all', 'start_at', '$z_from'))});
ok(caught_up('zone'), 'the zoned schedule caught up');
my $z_next = $node->safe_psql('postgres', "SELECT next_fire_at FROM duroxide.list_schedules() WHERE name = 'zone'");
is(same_ids(started_ids('zone'), daily_ids('zone', "'$z_from'::timestamptz", "'$z_next'::timestamptz")),
   'extra 0, missing 0', 'fires at 08:30 Asia/Kolkata are the 03:00 UTC instants');
is($node->safe_psql('postgres', "SELECT to_char(next_fire_at AT TIME ZONE 'Asia/Kolkata', 'HH24:MI') FROM duroxide.list_schedules() WHERE name = 'zone'"),
   '08:30', 'the next fire is at 08:30 local time');

# 4. Overlap. Runs of WaitForGo wait for the event "Go". 30 missed minutes, backfill_all:
# skip starts the first and drops the rest; buffer_one starts the first and keeps the second
# as pending until the first ends.
my $o_from = $node->safe_psql('postgres', "SELECT now() - interval '30 minutes'");
# The missed fires are those up to now; a fire of a later minute may come during the test.
my $o_cut = $node->safe_psql('postgres', q{SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')});
sub missed_runs {
    my ($name) = @_;
    return "SELECT string_agg(id, ',' ORDER BY id) FROM (" . started_ids($name)
      . ") s WHERE id <= 'schedule:$name:$o_cut'";
}
app_sql(qq{SELECT duroxide.create_schedule('ov-skip', '* * * * *', 'WaitForGo', '',
    jsonb_build_object('catch_up', 'backfill_all', 'overlap', 'skip', 'start_at', '$o_from'));
  SELECT duroxide.create_schedule('ov-buf', '* * * * *', 'WaitForGo', '',
    jsonb_build_object('catch_up', 'backfill_all', 'overlap', 'buffer_one', 'start_at', '$o_from'))});
my $first_minute = $node->safe_psql('postgres', qq{
    SELECT to_char(date_trunc('minute', '$o_from'::timestamptz AT TIME ZONE 'UTC') + interval '1 minute',
                   'YYYY-MM-DD"T"HH24:MI:SS"Z"')});
my $second_minute = $node->safe_psql('postgres', qq{
    SELECT to_char(date_trunc('minute', '$o_from'::timestamptz AT TIME ZONE 'UTC') + interval '2 minutes',
                   'YYYY-MM-DD"T"HH24:MI:SS"Z"')});
ok(caught_up('ov-skip'), 'overlap skip caught up');
is($node->safe_psql('postgres', missed_runs('ov-skip')),
   "schedule:ov-skip:$first_minute", 'skip: one run, the first fire; the others were dropped');
ok($node->poll_query_until('postgres', qq{
    SELECT pending_fire_at IS NOT NULL AND next_fire_at > now() FROM duroxide.list_schedules() WHERE name = 'ov-buf'}),
   'buffer_one remembers a pending fire while the first run runs');
is($node->safe_psql('postgres', qq{
    SELECT to_char(pending_fire_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ' '
           || (SELECT string_agg(id, ',') FROM (${\ started_ids('ov-buf')}) s)
      FROM duroxide.list_schedules() WHERE name = 'ov-buf'}),
   "$second_minute schedule:ov-buf:$first_minute", 'the pending fire is the second; only the first runs');
app_sql("SELECT duroxide.raise_event('schedule:ov-buf:$first_minute', 'Go', 'done')");
ok($node->poll_query_until('postgres', qq{
    SELECT count(*) = 2 FROM (${\ started_ids('ov-buf')}) s}),
   'when the first run ends, the pending fire starts');
is($node->safe_psql('postgres', missed_runs('ov-buf')),
   "schedule:ov-buf:$first_minute,schedule:ov-buf:$second_minute", 'buffer_one ran the first two fires only');

# 5. Pause and resume: a schedule paused in the transaction that created it fires nothing
# while another one, created with it, is fired; resume continues from the next fire after now.
my $p_from = $node->safe_psql('postgres', "SELECT now() - interval '5 days'");
app_sql(qq{BEGIN;
  SELECT duroxide.create_schedule('paused', '0 3 * * *', 'HelloWorld', 'p',
    jsonb_build_object('catch_up', 'backfill_all', 'overlap', 'allow_all', 'start_at', '$p_from'));
  SELECT duroxide.pause_schedule('paused');
  SELECT duroxide.create_schedule('unpaused', '0 3 * * *', 'HelloWorld', 'p',
    jsonb_build_object('catch_up', 'backfill_all', 'overlap', 'allow_all', 'start_at', '$p_from'));
  COMMIT;});
ok(caught_up('unpaused'), 'the schedule created beside it fired');
is($node->safe_psql('postgres', "SELECT count(*) FROM (" . started_ids('paused') . ") s"),
   '0', 'the paused schedule fired nothing');
is(app_sql(q{SELECT duroxide.resume_schedule('paused') > now()}), 't',
   'resume: the next fire is after now');
is($node->safe_psql('postgres', q{SELECT paused FROM duroxide.list_schedules() WHERE name = 'paused'}),
   'f', 'resumed');
is($node->safe_psql('postgres', "SELECT count(*) FROM (" . started_ids('paused') . ") s"),
   '0', 'the fires of the pause are not caught up');

# 6. kill -9 of a dispatcher in the middle of a long backfill (600 missed minutes, runs of a
# workflow that returns at once): the server restarts the workers, the backfill goes on, and
# every fire is started exactly once.
my $k_from = $node->safe_psql('postgres', "SELECT now() - interval '600 minutes'");
app_sql(qq{SELECT duroxide.create_schedule('crash', '* * * * *', 'echo', '1',
    jsonb_build_object('kind', 'workflow', 'catch_up', 'backfill_all', 'overlap', 'allow_all',
                       'start_at', '$k_from'))});
ok($node->poll_query_until('postgres', q{SELECT fires > 0 FROM duroxide.list_schedules() WHERE name = 'crash'}),
   'the backfill started');
my $pids = $node->safe_psql('postgres', "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE backend_type = 'duroxide dispatcher'");
my $fires_at_kill = $node->safe_psql('postgres', q{SELECT fires FROM duroxide.list_schedules() WHERE name = 'crash'});
kill 'KILL', (split / /, $pids)[0];
note "killed a dispatcher after $fires_at_kill fires";
ok($node->poll_query_until('postgres', "SELECT ($dispatchers) = 2 AND pg_postmaster_start_time() IS NOT NULL"),
   'the dispatchers are back');
ok(caught_up('crash'), 'the backfill caught up after the crash');
# A fire commits its start message with the schedule's row; the instance row appears when a
# dispatcher takes that message, so wait for the dispatchers to have taken every fire's.
$node->poll_query_until('postgres', "SELECT fires = (SELECT count(*) FROM (" . started_ids('crash') . ") s) FROM duroxide.list_schedules() WHERE name = 'crash'");
my $k_next = $node->safe_psql('postgres', "SELECT next_fire_at FROM duroxide.list_schedules() WHERE name = 'crash'");
my $minutes = qq{
    SELECT 'schedule:crash:' || to_char(g AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS id
      FROM generate_series(date_trunc('minute', '$k_from'::timestamptz) + interval '1 minute',
                           '$k_next'::timestamptz - interval '1 minute', interval '1 minute') g};
is(same_ids(started_ids('crash'), $minutes), 'extra 0, missing 0',
   'after the crash: exactly every missed fire was started');
is($node->safe_psql('postgres', "SELECT fires = (SELECT count(*) FROM (" . started_ids('crash') . ") s) FROM duroxide.list_schedules() WHERE name = 'crash'"),
   't', 'the fires counted equal the runs');
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM (SELECT instance_id FROM duroxide.history
                           WHERE instance_id LIKE 'schedule:crash:%' AND event_type = 'OrchestrationStarted'
                           GROUP BY instance_id HAVING count(*) > 1) d}),
   '0', 'no run of the crashed backfill was started twice');

# 7. A client cannot start a schedule's id by hand.
my ($ret, $out, $err) = $node->psql('postgres',
    "SET ROLE app; SELECT duroxide.start_orchestration('schedule:bf:2099-01-01T03:00:00Z', 'HelloWorld')");
like($err, qr/reserved for recurring schedules/, 'the schedule: prefix is reserved');

$node->stop;
done_testing();
