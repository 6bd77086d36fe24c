# duroxide.retention_period: finished root instances (with their sub-orchestrations) older than
# the period are deleted by the dispatcher; running ones and recent ones stay.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = duroxide_node('retention', plugins => ['duroxide_sample'], conf => q{
duroxide.activity_workers = 1
duroxide.poll_interval = '200ms'
});
$node->safe_psql('postgres', q{
SELECT duroxide.start_orchestration('old-' || i, 'HelloWorld', 'old') FROM generate_series(1, 3) i;
SELECT duroxide.start_orchestration('old-parent', 'Parent', 'child input');
SELECT duroxide.start_orchestration('waiting', 'WaitForGo', '');
});
my $finished = "SELECT count(*) FROM duroxide.instances i JOIN duroxide.executions e "
  . "ON e.instance_id = i.instance_id AND e.execution_id = i.current_execution_id "
  . "WHERE e.status = 'Completed'";
ok($node->poll_query_until('postgres', "SELECT ($finished) = 5"),
    'three roots and a parent with its child completed');
# Dispatcher 0 runs retention whenever it has no turn to run, just before it goes idle: once it
# has run a later instance and gone idle after it, retention had its chance.
$node->safe_psql('postgres', "SELECT duroxide.start_orchestration('later', 'HelloWorld', 'later')");
is($node->safe_psql('postgres',
        "SELECT status FROM duroxide.wait_for_orchestration('later', '60 s')"),
    'Completed', 'a later instance completed');
ok($node->poll_query_until('postgres', q{
    SELECT state = 'idle' AND state_since > (SELECT completed_at FROM duroxide.executions
                                              WHERE instance_id = 'later')
      FROM duroxide.runtime_status WHERE role = 'dispatcher' AND slot = 0}),
    'the dispatcher went idle after it');
is($node->safe_psql('postgres', 'SELECT count(*) FROM duroxide.instances'), '7',
    'with retention off nothing is deleted');

$node->safe_psql('postgres', "ALTER SYSTEM SET duroxide.retention_period = '2s'");
$node->reload;
ok($node->poll_query_until('postgres', 'SELECT count(*) = 1 FROM duroxide.instances'),
    'finished trees older than the period are deleted');
is($node->safe_psql('postgres', 'SELECT instance_id FROM duroxide.instances'), 'waiting',
    'the running instance stays');
is($node->safe_psql('postgres',
        "SELECT count(*) FROM duroxide.history WHERE instance_id <> 'waiting'"), '0',
    'with its history gone');
ok($node->log_contains('retention deleted [0-9]+ finished instances'), 'the deletion is logged');

# A fresh completion is kept until it is older than the period.
$node->safe_psql('postgres', "SELECT duroxide.raise_event('waiting', 'Go', 'now')");
ok($node->poll_query_until('postgres',
        "SELECT status = 'Completed' FROM duroxide.get_orchestration_status('waiting')"),
    'the waiting instance completes');
is($node->safe_psql('postgres', 'SELECT count(*) FROM duroxide.instances'), '1',
    'a just-finished instance is kept');
ok($node->poll_query_until('postgres', 'SELECT count(*) = 0 FROM duroxide.instances'),
    'and deleted once older than the period');

$node->stop;
done_testing();
