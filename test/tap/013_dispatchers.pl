# Two orchestration dispatchers (duroxide.orchestration_dispatchers = 2) share a database's
# instances, and a dispatcher renews the instance locks of a batch while it runs the batch's
# turns: a batch of 16 turns of 200 ms each outlasts the 1 s orchestration lock, yet no turn's
# ack finds its lock expired or taken over by the other dispatcher.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = duroxide_node('dispatchers', plugins => ['duroxide_sample'], conf => q{
duroxide.orchestration_dispatchers = 2
duroxide.activity_workers = 1
duroxide.orchestration_lock_timeout = '1s'
duroxide.dispatch_batch = 16
duroxide.poll_interval = '100ms'
});

my $dispatchers = "SELECT string_agg(application_name, ',' ORDER BY application_name) "
  . "FROM pg_stat_activity WHERE backend_type = 'duroxide dispatcher'";
ok($node->poll_query_until('postgres', "SELECT ($dispatchers) = 'duroxide dispatcher 0,duroxide dispatcher 1'"),
    'two dispatchers run');

# Work both dispatchers complete: hello-world instances with their exact outputs.
$node->safe_psql('postgres', join ';',
    map { "SELECT duroxide.start_orchestration('hello-$_', 'HelloWorld', 'n$_')" } 1 .. 40);
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM generate_series(1, 40) i,
           LATERAL duroxide.wait_for_orchestration('hello-' || i, '60 s') w
     WHERE w.status = 'Completed' AND w.output = 'Hello, n' || i || '!'}),
    '40', 'two dispatchers complete 40 instances with their outputs');
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM (SELECT instance_id, execution_id, event_id FROM duroxide.history
                           GROUP BY 1, 2, 3 HAVING count(*) > 1) d}),
    '0', 'no history event id recorded twice');

# A batch of long turns, started in one transaction so that one fetch takes them all.
my $log_offset = -s $node->logfile;
my $renewals = "SELECT value FROM duroxide.metrics WHERE metric = 'lock_renewals'";
my $renewals_before = $node->safe_psql('postgres', $renewals);
$node->safe_psql('postgres', 'BEGIN; '
    . join('; ', map { "SELECT duroxide.start_orchestration('slow-$_', 'SlowTurn', 's$_')" } 1 .. 16)
    . '; COMMIT');
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM generate_series(1, 16) i,
           LATERAL duroxide.wait_for_orchestration('slow-' || i, '120 s') w
     WHERE w.status = 'Completed' AND w.output = 'slow:s' || i}),
    '16', 'the long turns complete');
my $log = slurp_file($node->logfile, $log_offset);
unlike($log, qr/instance lock of "slow-\d+" (?:expired|was taken over)/,
    'no long turn lost its lock: each was recorded by the dispatcher that ran it');
cmp_ok($node->safe_psql('postgres', $renewals), '>', $renewals_before,
    'the dispatcher renewed the batch\'s locks');
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM duroxide.history
     WHERE instance_id LIKE 'slow-%' AND event_type = 'OrchestrationStarted'}),
    '16', 'each long turn recorded once');

$node->stop;
done_testing();
