# The launcher runs each database's workers: they appear on CREATE EXTENSION without a restart,
# come back when one dies, survive a crash restart, and go away on DROP EXTENSION.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = duroxide_node('workers', extension => 0, conf => q{
duroxide.activity_workers = 3
restart_after_crash = on
});

my $workers_sql = "SELECT string_agg(application_name, ',' ORDER BY application_name) "
  . "FROM pg_stat_activity WHERE backend_type IN ('duroxide dispatcher', 'duroxide activity worker') "
  . "AND datname = 'app'";
my $expected = 'duroxide activity worker 0,duroxide activity worker 1,'
  . 'duroxide activity worker 2,duroxide dispatcher 0';

$node->safe_psql('postgres', 'CREATE DATABASE app');
is($node->safe_psql('postgres', $workers_sql), '', 'no workers before CREATE EXTENSION');
$node->safe_psql('app', 'CREATE EXTENSION duroxide');
ok($node->poll_query_until('postgres', "SELECT ($workers_sql) = '$expected'"),
    'dispatcher and 3 activity workers start after CREATE EXTENSION, no restart');

# A worker that exits (here: terminated) is replaced in the same slot.
my $victim = $node->safe_psql('postgres',
    "SELECT pid FROM pg_stat_activity WHERE application_name = 'duroxide activity worker 1'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($victim)");
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = "
      . "'duroxide activity worker 1' AND pid <> $victim"),
    'terminated activity worker is replaced');
is($node->safe_psql('postgres', $workers_sql), $expected, 'one process per slot');

# kill -9 makes the postmaster reinitialize; the launcher finds the database again.
my $dispatcher = $node->safe_psql('postgres',
    "SELECT pid FROM pg_stat_activity WHERE application_name = 'duroxide dispatcher 0'");
kill 'KILL', $dispatcher;
ok($node->poll_query_until('postgres', "SELECT ($workers_sql) = '$expected'"),
    'workers are back after a crash restart');

# DROP EXTENSION in a transaction that rolls back changes nothing: the same processes go on,
# and each has looked for work (and at the catalog, at a safety-net poll) since.
my $pids_sql = "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity "
  . "WHERE backend_type IN ('duroxide dispatcher', 'duroxide activity worker') AND datname = 'app'";
my $pids = $node->safe_psql('postgres', $pids_sql);
$node->safe_psql('app', 'BEGIN; DROP EXTENSION duroxide; ROLLBACK;');
my $rolled_back_at = $node->safe_psql('app', 'SELECT clock_timestamp()');
ok($node->poll_query_until('app', qq{
    SELECT count(*) = 4 AND bool_and(state = 'idle' AND state_since > '$rolled_back_at')
      FROM duroxide.runtime_status WHERE database = current_database()}),
    'every worker went back to waiting for work after the rollback');
is($node->safe_psql('postgres', $workers_sql), $expected, 'rolled-back DROP keeps workers');
is($node->safe_psql('postgres', $pids_sql), $pids, 'the same worker processes');

$node->safe_psql('app', 'DROP EXTENSION duroxide');
ok($node->poll_query_until('postgres', "SELECT ($workers_sql) IS NULL"),
    'workers stop after DROP EXTENSION');

$node->safe_psql('app', 'CREATE EXTENSION duroxide');
ok($node->poll_query_until('postgres', "SELECT ($workers_sql) = '$expected'"),
    'workers start again on a new CREATE EXTENSION');

# A restart finds databases with the extension by probing; others get no workers.
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->restart;
ok($node->poll_query_until('postgres', "SELECT ($workers_sql) = '$expected'"),
    'workers found again after a clean restart');
is($node->safe_psql('postgres',
        "SELECT count(*) FROM pg_stat_activity WHERE datname IN ('other', 'postgres') "
      . "AND backend_type <> 'duroxide launcher' AND backend_type LIKE 'duroxide%'"),
    '0', 'databases without the extension keep no workers');

# SIGTERM stops every worker promptly.
my $t0 = time;
$node->stop('fast');
cmp_ok(time - $t0, '<=', 10, 'server with workers stops promptly');
unlike(slurp_file($node->logfile), qr/PANIC|was terminated by signal 11/, 'no crash in the log');
done_testing();
