# The catalog generation's snapshot window (commit 1606ae1; docs/architecture.md, the catalog
# generation): a worker reads the generation, then the catalogs. A register_plugin that commits
# after the worker's unit of work took its snapshot but before the worker reads the generation
# bumps the generation the worker then reads; its catalog statements must read under a snapshot
# taken after that read, or they miss the plugin and mark the generation seen: the plugin would
# never be loaded by that worker (until the next catalog change).
#
# The window is held open with the developer wait point catalog_refresh
# (duroxide.debug_wait_point, src/runtime/process/debug_wait.hpp): every worker reaching it
# waits, inside its unit of work, while this test holds the debug advisory lock. Both the
# dispatcher and the activity worker wait there, the plugin is registered, the lock released:
# an orchestration of the plugin that calls an activity of the plugin must then run.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

# kDebugWaitLockKey ("duroxide" - 1 as a bigint), and its halves as pg_locks shows them.
my ($high, $low) = (0x6475726f, 0x78696465 - 1);
my $key = '7238817799155049572';

my $node = duroxide_node('catalog_generation', plugin_dir => 1, conf => q{
duroxide.orchestration_dispatchers = 1
duroxide.activity_workers = 1
duroxide.poll_interval = '200ms'
});
my $workers = "SELECT count(*) FROM pg_stat_activity WHERE backend_type IN "
  . "('duroxide dispatcher', 'duroxide activity worker')";
my $waiting = "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
  . "WHERE l.locktype = 'advisory' AND NOT l.granted AND l.classid = $high AND l.objid = $low "
  . "AND a.backend_type IN ('duroxide dispatcher', 'duroxide activity worker')";
ok($node->poll_query_until('postgres', $workers, '2'), 'a dispatcher and an activity worker run');

# Hold the lock, then turn the wait point on: each worker stops there at its next unit of work.
my $holder = $node->background_psql('postgres');
$holder->query_safe("SELECT pg_advisory_lock($key)");
$node->safe_psql('postgres', "ALTER SYSTEM SET duroxide.debug_wait_point = 'catalog_refresh'");
$node->reload;
ok($node->poll_query_until('postgres', $waiting, '2'),
    'both workers wait in their unit of work, before reading the catalog generation');

# The registration commits (and bumps the generation) while their snapshots are older.
is($node->safe_psql('postgres', "SELECT duroxide.register_plugin('duroxide_sample') > 0"), 't',
    'the plugin is registered meanwhile');
is($node->safe_psql('postgres', $waiting), '2', 'the workers still wait, with their old snapshots');

# Let them go: they read the new generation, then the catalogs.
$node->safe_psql('postgres', 'ALTER SYSTEM RESET duroxide.debug_wait_point');
$node->reload;
$holder->query_safe("SELECT pg_advisory_unlock($key)");
$holder->quit;

# HelloWorld (the dispatcher's) calls Hello twice (the activity worker's). A worker that missed
# the plugin would leave it unregistered: backoff, then failure, never this output.
$node->safe_psql('postgres', "SELECT duroxide.start_orchestration('after', 'HelloWorld', 'gen')");
is($node->safe_psql('postgres',
        "SELECT status || ' ' || coalesce(output, error::text) "
      . "FROM duroxide.wait_for_orchestration('after', '60 s')"),
    'Completed Hello, gen!', 'both workers loaded the plugin registered in the window');
ok(!$node->log_contains('is not registered'), 'no worker found the plugin\'s handlers missing');

$node->stop;
done_testing();
