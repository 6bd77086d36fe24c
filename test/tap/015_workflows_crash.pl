# A crash (immediate stop) in the middle of SQL-authored workflows whose three SQL steps write:
# after the restart every workflow completes and every step's write exists exactly once (each
# step commits with its completion, in the activity worker's transaction).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('workflows_crash');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'duroxide'
duroxide.activity_workers = 2
duroxide.worker_lock_timeout = '1h'
duroxide.orchestration_lock_timeout = '1h'
max_worker_processes = 16
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION duroxide;
CREATE ROLE wf_runner LOGIN IN ROLE duroxide_user;
CREATE TABLE wf_effects (instance text, step int);
GRANT INSERT ON wf_effects TO wf_runner;
SET ROLE wf_runner;
SELECT duroxide.define_workflow('three_writes', $wf$
{"kind": "seq", "steps": [
  {"kind": "sql", "query": "INSERT INTO public.wf_effects SELECT $1, 1 FROM pg_sleep(0.01)", "params": ["$input"]},
  {"kind": "sql", "query": "INSERT INTO public.wf_effects SELECT $1, 2 FROM pg_sleep(0.01)", "params": ["$input"]},
  {"kind": "sql", "query": "INSERT INTO public.wf_effects SELECT $1, 3 FROM pg_sleep(0.01)", "params": ["$input"]},
  {"kind": "return", "value": "$input"}]}
$wf$);
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
