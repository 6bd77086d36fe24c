# A rolling deployment: an orchestration started with allow_unregistered before its plugin is
# registered is Pending, the server log says at each backoff what is missing, and it runs once
# the plugin is registered. Without the plugin it fails with a message naming what is missing.
# The same for an activity nobody registered.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = duroxide_node('unregistered', plugin_dir => 1, conf => q{
duroxide.orchestration_dispatchers = 1
duroxide.activity_workers = 1
duroxide.max_attempts = 8
duroxide.unregistered_backoff = '50ms'
});
my $log_start = -s $node->logfile;

# Refused by default, accepted with the opt-in; Pending meanwhile.
my ($rc, $out, $err) = $node->psql('postgres',
    "SELECT duroxide.start_orchestration('rollout-1', 'HelloWorld', 'x')");
like($err, qr/orchestration "HelloWorld" is not registered/, 'an unregistered start is refused');
is($node->safe_psql('postgres',
        "SELECT duroxide.start_orchestration('rollout-1', 'HelloWorld', 'x', allow_unregistered => true)"),
    't', 'allow_unregistered starts it');
is($node->safe_psql('postgres',
        "SELECT status FROM duroxide.get_orchestration_status('rollout-1')"),
    'Pending', 'it is Pending until it runs');
ok($node->wait_for_log(
        qr/duroxide: orchestration "HelloWorld" is not registered: instance "rollout-1" retries in \d+ ms \(attempt 1 of 8/,
        $log_start),
    'the server log says why it waits');

# The plugin arrives: it runs.
$node->safe_psql('postgres', "SELECT duroxide.register_plugin('duroxide_sample')");
is($node->safe_psql('postgres',
        "SELECT status || ' ' || output FROM duroxide.wait_for_orchestration('rollout-1', '60 s')"),
    'Completed Hello, x!', 'it runs once the plugin is registered');

# A version that never comes fails, saying so; an unregistered activity too.
$node->safe_psql('postgres', q{
SELECT duroxide.start_orchestration('rollout-2', 'HelloWorld', 'x', '7.0.0', allow_unregistered => true);
SELECT duroxide.start_orchestration('rollout-3', 'CallActivity', 'NotThere:x');
});
is($node->safe_psql('postgres',
        "SELECT status || ': ' || (error->'Poison'->>'message') "
      . "FROM duroxide.wait_for_orchestration('rollout-2', '60 s')"),
    'Failed: orchestration "HelloWorld" version "7.0.0" is not registered',
    'a version never registered fails naming it');
is($node->safe_psql('postgres',
        "SELECT status || ': ' || (error->'Poison'->>'message') "
      . "FROM duroxide.wait_for_orchestration('rollout-3', '60 s')"),
    'Failed: activity "NotThere" is not registered', 'so does an unregistered activity');
ok($node->log_contains(
        qr/duroxide: activity "NotThere" is not registered: instance "rollout-3" retries in \d+ ms/,
        $log_start),
    'each activity backoff is logged with the reason');
my $lines = () = slurp_file($node->logfile, $log_start)
  =~ /orchestration "HelloWorld" version "7\.0\.0" is not registered: instance "rollout-2"/g;
is($lines, 8, 'one log line per backoff (attempts 1 to 8), then the failure');

$node->stop;
done_testing();
