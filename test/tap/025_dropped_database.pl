# DROP DATABASE ... WITH (FORCE) of a database served by duroxide frees that database's worker
# slots: its workers are terminated by the drop, the launcher finds the database gone instead of
# starting them again, and runtime_status no longer shows them (nor piles them up drop after drop).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

# runtime_status is read from the postgres database, which runs duroxide itself.
my $node = duroxide_node('dropped', conf => "duroxide.activity_workers = 1\n");
my $slots_sql = "SELECT count(*) FROM duroxide.runtime_status WHERE role <> 'launcher'";
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 2 FROM duroxide.runtime_status WHERE database = 'postgres' "
      . "AND pid IS NOT NULL AND state IN ('idle', 'running')"),
    'the workers of postgres run');
my $baseline = $node->safe_psql('postgres', $slots_sql);
is($baseline, '2', 'two slots in use: the dispatcher and the activity worker of postgres');

for my $round (1 .. 3) {
    my $db = "gone_$round";
    $node->safe_psql('postgres', "CREATE DATABASE $db");
    $node->safe_psql($db, 'CREATE EXTENSION duroxide');
    ok($node->poll_query_until('postgres',
            "SELECT count(*) = 2 FROM duroxide.runtime_status WHERE database = '$db' "
          . "AND pid IS NOT NULL AND state IN ('idle', 'running')"),
        "round $round: the workers of $db run");
    $node->safe_psql('postgres', "DROP DATABASE $db WITH (FORCE)");
    ok($node->poll_query_until('postgres',
            "SELECT count(*) = 0 FROM duroxide.runtime_status "
          . "WHERE role <> 'launcher' AND database IS DISTINCT FROM 'postgres'"),
        "round $round: no slot is left for the dropped database");
    is($node->safe_psql('postgres', $slots_sql), $baseline,
        "round $round: the slot count is back to what it was");
}

# The workers of the database that stayed were left alone, and a new database still gets its own.
$node->safe_psql('postgres', 'CREATE DATABASE after');
$node->safe_psql('after', 'CREATE EXTENSION duroxide');
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 2 FROM duroxide.runtime_status WHERE database = 'after' "
      . "AND pid IS NOT NULL AND state IN ('idle', 'running')"),
    'a database created after the drops gets its workers');
is($node->safe_psql('postgres',
        "SELECT count(*) FROM duroxide.runtime_status WHERE database = 'postgres' "
      . "AND pid IS NOT NULL"),
    '2', 'the workers of postgres still run');

$node->stop;
done_testing();
