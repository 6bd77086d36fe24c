# duroxide needs shared_preload_libraries; the launcher runs with the server and comes back
# when it dies.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Without preload: CREATE EXTENSION fails with a clear message and a hint.
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init;
$plain->start;
my ($ret, $stdout, $stderr) = $plain->psql('postgres', 'CREATE EXTENSION duroxide');
isnt($ret, 0, 'CREATE EXTENSION fails without shared_preload_libraries');
like($stderr, qr/duroxide must be loaded via shared_preload_libraries/, 'error says why');
like($stderr, qr/HINT:\s+Add duroxide to shared_preload_libraries/, 'error carries a hint');
is($plain->safe_psql('postgres',
        "SELECT count(*) FROM pg_extension WHERE extname = 'duroxide'"), '0',
    'nothing was installed');
$plain->stop;

# With preload: the launcher is up and visible, and is restarted after being terminated.
my $node = PostgreSQL::Test::Cluster->new('preloaded');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'duroxide'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION duroxide');
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'duroxide launcher'"),
    'launcher is running');
my $pid = $node->safe_psql('postgres',
    "SELECT pid FROM pg_stat_activity WHERE backend_type = 'duroxide launcher'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres',
        "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'duroxide launcher' "
      . "AND pid <> $pid"),
    'launcher restarted after termination');
is($node->safe_psql('postgres', 'SELECT duroxide.version()'), '0.2.0', 'server still serves');
$node->stop;
unlike(slurp_file($node->logfile), qr/PANIC|was terminated by signal 11/,
    'no crash in the server log');

done_testing();
