# The client examples run as a user would run them (examples/README.md): examples/greeting.sql
# defines the workflow, then examples/python/greet.py (psycopg) and examples/node/greet.js (pg)
# each start it, send it a message, hear its end through duroxide.listen() and read its status.
# Their printed lines are checked against what the server recorded.
use strict;
use warnings;
use IPC::Run qw(run timeout);
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $top = $ENV{DUROXIDE_TOP} or BAIL_OUT('DUROXIDE_TOP is not set (scripts/run-tap-suites.sh sets it)');
my $node_path = '/usr/share/nodejs:/usr/local/share/duroxide/nodejs';
# Debian's Python, with Debian's psycopg (not another python3 first in PATH).
my $python = '/usr/bin/python3';
system($python, '-c', 'import psycopg') == 0
  or BAIL_OUT('psycopg is missing: apt-get install python3-psycopg (scripts/install-deps.sh)');
system('env', "NODE_PATH=$node_path", 'node', '-e', "require('pg')") == 0
  or BAIL_OUT('node or node-pg is missing: apt-get install nodejs node-pg (scripts/install-deps.sh)');

my $node = duroxide_node('examples', conf => q{
duroxide.orchestration_dispatchers = 1
duroxide.activity_workers = 1
});
$node->safe_psql('postgres', q{
CREATE ROLE app LOGIN IN ROLE duroxide_user;
});
# A URI: what both drivers take (node-pg does not read keyword=value strings).
# (node-pg 8.8 reads the port only from the authority, the socket directory only from ?host=).
my $conninfo = 'postgresql://app@localhost:' . $node->port . '/postgres?host=' . $node->host;
for (1 .. 2) {    # a second run of the setup changes nothing
    $node->safe_psql('postgres', slurp_file("$top/examples/greeting.sql"), extra_params => [ '-U', 'app' ]);
}
is($node->safe_psql('postgres', q{SELECT count(*) FROM duroxide.workflows WHERE name = 'greeting'}), '1',
    'greeting.sql defines the workflow once');

sub example {
    my ($instance, @command) = @_;
    my ($out, $err) = ('', '');
    my $ok = run([ 'env', "NODE_PATH=$node_path", @command, $conninfo, $instance ],
        '>', \$out, '2>', \$err, timeout($PostgreSQL::Test::Utils::timeout_default));
    diag("stdout: $out\nstderr: $err") unless $ok;
    ok($ok, "$command[0] example exits 0");
    return $out;
}

for my $case ([ 'py-1', $python, "$top/examples/python/greet.py" ],
    [ 'js-1', 'node', "$top/examples/node/greet.js" ]) {
    my ($instance, @command) = @$case;
    my $out = example($instance, @command);
    my $recorded = $node->safe_psql('postgres',
        "SELECT status || ' ' || output FROM duroxide.get_orchestration_status('$instance')",
        extra_params => [ '-U', 'app' ]);
    is($recorded, 'Completed {"greeting":"Hello, Ada!"}', "$instance completed with the greeting");
    like($out, qr/^started \Q$instance\E$/m, "$command[0]: started the instance");
    like($out, qr/^notified Completed execution 1 output \{"greeting":"Hello, Ada!"\} large (False|false)$/m,
        "$command[0]: heard its end with the output");
    like($out, qr/^status Completed output \{"greeting":"Hello, Ada!"\}$/m,
        "$command[0]: read its status");
}

done_testing();
