# A crash (immediate stop) in the middle of SQL-authored workflows whose three SQL steps write:
# after the restart every workflow completes and every step's write exists exactly once (each
# step commits with its completion, in the activity worker's transaction).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = duroxide_node('workflows_crash', leases => '1h', conf => q{
duroxide.activity_workers = 2
restart_after_crash = on
});
define_three_writes($node, 0.01);
$node->safe_psql('postgres', q{
SET ROLE wf_runner;
SELECT duroxide.start_workflow('wf-' || i, 'three_writes', to_jsonb('wf-' || i))
  FROM generate_series(1, 100) AS i;
});
my $completed = "SELECT count(*) FROM generate_series(1, 100) AS i, "
  . "LATERAL duroxide.get_orchestration_status('wf-' || i) s WHERE s.status = 'Completed'";
ok($node->poll_query_until('postgres', "SELECT ($completed) >= 5"), 'workflows are running');
my $before = $node->safe_psql('postgres', $completed);
$node->stop('immediate');
cmp_ok($before, '<', 100, "stopped in the middle ($before of 100 complete)");
$node->start;
ok($node->poll_query_until('postgres', "SELECT ($completed) = 100"),
    'all 100 workflows complete after the restart');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM generate_series(1, 100) AS i,
       LATERAL duroxide.get_orchestration_status('wf-' || i) s
 WHERE s.output = to_jsonb('wf-' || i)::text
}), '100', 'every output is correct');
is($node->safe_psql('postgres',
        'SELECT count(*) || \' \' || count(DISTINCT (instance, step)) FROM wf_effects'),
    '300 300', 'each step\'s write committed exactly once');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM (
    SELECT instance_id FROM duroxide.history WHERE instance_id LIKE 'wf-%'
     GROUP BY instance_id HAVING count(*) <> 8) bad
}), '0', 'each history holds its 8 events once');

done_testing();
