# The durable key-value store when executions are replayed instead of resumed: with the
# resident cache off every turn replays from history and the kv_store snapshot, and after a
# restart the first turn of a waiting execution does; the values must be those of the
# resident runs (sql/e2e_kv.sql). Also pg_dump/pg_restore of both tables.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = duroxide_node('kv_replay', plugins => ['duroxide_sample'], conf => q{
duroxide.activity_workers = 1
duroxide.resident_cache_size = 0
});

sub finish {
    my ($instance) = @_;
    return $node->safe_psql('postgres',
        "SELECT status || ' ' || coalesce(output, '') FROM duroxide.wait_for_orchestration('$instance', '60 s')");
}

# --- every turn replayed
$node->safe_psql('postgres', q{SELECT duroxide.start_orchestration('counter', 'KvCounter', '3:3')});
is(finish('counter'), 'Completed counter=9 first=-',
    'read-modify-write across activities and continue-as-new, replayed every turn');
is($node->safe_psql('postgres', q{SELECT string_agg(key || '=' || value, ',') FROM duroxide.get_kv_values('counter')}),
    'counter=9', 'the live view after the end');

$node->safe_psql('postgres', q{SELECT duroxide.start_orchestration('carry', 'KvCarry', '')});
is($node->safe_psql('postgres', q{SELECT duroxide.wait_for_kv_value('carry', 'waiting', '60 s')}),
    'yes', 'execution 2 waits');
$node->safe_psql('postgres', q{SELECT duroxide.raise_event('carry', 'Go', '')});
is(finish('carry'), 'Completed carried=from 1 keys=2', 'the replay starts from the snapshot');

$node->safe_psql('postgres', q{SELECT duroxide.start_orchestration('rr', 'KvRequestResponse', '1')});
is($node->safe_psql('postgres', q{SELECT duroxide.wait_for_kv_value('rr', 'status', '60 s')}),
    'waiting for request 1', 'request/response: waiting');
$node->safe_psql('postgres', q{SELECT duroxide.enqueue_event('rr', 'requests', 'replayed')});
is(finish('rr'), 'Completed answered 1', 'request/response completes');
is($node->safe_psql('postgres', q{SELECT duroxide.get_kv_value('rr', 'response:1')}), 'REPLAYED',
    'the response is readable');
is($node->safe_psql('postgres', q{
SELECT coalesce(sum(value) FILTER (WHERE metric = 'resident_cache_hits'), 0) || ' '
       || (sum(value) FILTER (WHERE metric = 'orchestration_turns') > 10)
  FROM duroxide.metrics}), '0 true', 'no turn was resumed (of the many that ran)');

# --- the cache on, and a restart while execution 2 waits: its first turn after the restart
# replays (nothing is resident), later turns resume.
$node->append_conf('postgresql.conf', "duroxide.resident_cache_size = 1000\n");
$node->restart;
$node->safe_psql('postgres', q{SELECT duroxide.start_orchestration('carry-restart', 'KvCarry', '')});
is($node->safe_psql('postgres', q{SELECT duroxide.wait_for_kv_value('carry-restart', 'waiting', '60 s')}),
    'yes', 'execution 2 waits before the restart');
$node->restart;
$node->safe_psql('postgres', q{SELECT duroxide.raise_event('carry-restart', 'Go', '')});
is(finish('carry-restart'), 'Completed carried=from 1 keys=2',
    'after a restart the replay starts from the snapshot');
is($node->safe_psql('postgres', q{SELECT count(*) FROM duroxide.kv_delta}), '0',
    'every delta was merged at the end');

# --- backups: pg_dump saves both tables with the instances they belong to (foreign keys), and
# a restored copy reads and continues from them.
$node->safe_psql('postgres', q{SELECT duroxide.start_orchestration('carry-dump', 'KvCarry', '')});
is($node->safe_psql('postgres', q{SELECT duroxide.wait_for_kv_value('carry-dump', 'waiting', '60 s')}),
    'yes', 'an instance with keys in both tables');
my $dump = $node->basedir . '/kv.dump';
$node->command_ok(['pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres')], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok(['pg_restore', '-d', $node->connstr('restored'), $dump], 'pg_restore');
is($node->safe_psql('restored', q{
SELECT (SELECT string_agg(key || '=' || value, ',' ORDER BY key) FROM duroxide.kv_store WHERE instance_id = 'carry-dump')
       || ' / ' || (SELECT string_agg(key || '=' || value, ',' ORDER BY key) FROM duroxide.kv_delta WHERE instance_id = 'carry-dump')}),
    'carried=from 1 / waiting=yes', 'kv_store and kv_delta are restored');
$node->safe_psql('restored', q{SELECT duroxide.raise_event('carry-dump', 'Go', '')});
is($node->safe_psql('restored',
    q{SELECT output FROM duroxide.wait_for_orchestration('carry-dump', '60 s')}),
    'carried=from 1 keys=2', 'the restored instance goes on with its keys');

$node->stop;
done_testing();
