# Activity tags on three activity workers with filters from postgresql.conf (the per-worker
# overrides give a heterogeneous server): worker 0 runs untagged activities only, worker 1 only
# "gpu" ones, worker 2 everything. Routing is asserted from what the activities report (their
# worker index), never from timing; an invalid filter at reload is logged and the old one kept;
# the filters survive a restart.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = duroxide_node('tags', plugins => ['duroxide_sample'], conf => q{
duroxide.activity_workers = 3
duroxide.worker_tag_filter = 'default'
duroxide.worker_tag_filters = '1=tags:gpu; 2=any'
duroxide.poll_interval = '500ms'
});
my $filters = "SELECT string_agg(coalesce(tag_filter, '?'), ' ' ORDER BY slot) "
  . "FROM duroxide.runtime_status WHERE role = 'activity worker'";
ok($node->poll_query_until('postgres', $filters, 'default tags:gpu any'),
    'each worker fetches with its own filter');

# Starts `count` TagRoute instances for `tag` and returns the worker indexes that ran them.
sub routed {
    my ($name, $tag, $count) = @_;
    my @ids = map { "$name-$_" } 1 .. $count;
    $node->safe_psql('postgres', join ';',
        map { "SELECT duroxide.start_orchestration('$_', 'TagRoute', '$tag|60000')" } @ids);
    my %workers;
    for my $id (@ids) {
        my $output = $node->safe_psql('postgres',
            "SELECT status || ' ' || output FROM duroxide.wait_for_orchestration('$id', '60 s')");
        if ($output =~ /^Completed (?:$tag|untagged)\@(\d+)$/) {
            $workers{$1}++;
        } else {
            diag("$id: $output");
            $workers{'?'}++;
        }
    }
    return join ',', sort keys %workers;
}

like(routed('gpu', 'gpu', 12), qr/^(1|2|1,2)$/, '"gpu" activities run on workers 1 and 2 only');
is(routed('ml', 'ml', 6), '2', '"ml" activities run only on the "any" worker');
like(routed('plain', '', 12), qr/^(0|2|0,2)$/, 'untagged activities run on workers 0 and 2 only');

# An invalid value at reload: logged, and the workers keep the filters they had.
my $log_offset = -s $node->logfile;
$node->append_conf('postgresql.conf', "duroxide.worker_tag_filters = '1=gpu'\n");
$node->reload;
ok($node->wait_for_log(
        qr/invalid value for parameter "duroxide.worker_tag_filters": "1=gpu"/, $log_offset),
    'an invalid filter is reported in the server log');
is($node->safe_psql('postgres', 'SHOW duroxide.worker_tag_filters'), '1=tags:gpu; 2=any',
    'and the setting keeps its value');
is(routed('ml-after-bad', 'ml', 2), '2', 'routing is unchanged');

# A valid change at reload reaches the running workers.
$node->append_conf('postgresql.conf', "duroxide.worker_tag_filters = '1=tags:gpu,ml'\n");
$node->reload;
ok($node->poll_query_until('postgres', $filters, 'default tags:gpu,ml default'),
    'a reload changes the filters of running workers');
is(routed('ml-after-reload', 'ml', 4), '1', '"ml" activities now run on worker 1 only');

# After a restart the workers fetch with the configured filters again.
$node->restart;
ok($node->poll_query_until('postgres', $filters, 'default tags:gpu,ml default'),
    'the filters survive a restart');
is(routed('gpu-after-restart', 'gpu', 2), '1', 'and route as before');

$node->stop;
done_testing();
