# Bad set-ups fail with messages that say what to do: no PostgreSQL development files for the
# build, a port already in use for the throwaway cluster.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IPC::Run;

my $top = $ENV{DUROXIDE_TOP} or die 'DUROXIDE_TOP not set';

# Building without pg_config / server headers.
my ($out, $err);
my $rc = IPC::Run::run(['make', '-C', $top, '-n', 'PG_CONFIG=/nonexistent/pg_config'],
    '>', \$out, '2>', \$err);
ok(!$rc, 'make fails without pg_config');
like($err, qr/install the PostgreSQL server development headers/, 'make says what to install');

# A throwaway cluster on a port that something else listens on.
my $listener = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0)
  or die "cannot listen: $!";
my $dir = tempdir(CLEANUP => 1, TMPDIR => 1);
$rc = IPC::Run::run(["$top/scripts/pg-cluster.sh", 'start', "$dir/c", $listener->sockport],
    '>', \$out, '2>', \$err);
ok(!$rc, 'pg-cluster refuses a port in use');
like($err, qr/port \d+ is already in use/, 'and says the port is in use');
ok(!-e "$dir/c/data/postmaster.pid", 'and starts nothing');
# Never leave a server behind, even when the check above failed.
IPC::Run::run(["$top/scripts/pg-cluster.sh", 'stop', "$dir/c"]) if -e "$dir/c/data/postmaster.pid";
close $listener;
done_testing();
