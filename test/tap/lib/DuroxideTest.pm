# What the TAP files (test/tap/*.pl) share: a throwaway server that preloads duroxide, with the
# extension created and the test plugins registered, and the SQL workflow the crash and
# failover files load. docs/development.md ("TAP tests") shows its use. A file loads it with
#
#   use FindBin;
#   use lib "$FindBin::RealBin/lib";
#   use DuroxideTest;
package DuroxideTest;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Cluster;

our @EXPORT = qw(duroxide_node define_three_writes);

# duroxide_node($name, %options): a PostgreSQL::Test::Cluster, initialised and started with
#   shared_preload_libraries = 'duroxide' and max_worker_processes = 16, then
#   conf        more postgresql.conf lines (after those: a line here overrides them);
#   plugins     [names]: lists $DUROXIDE_PLUGIN_DIR in duroxide.plugin_directories and
#               registers each plugin after CREATE EXTENSION;
#   plugin_dir  1: lists $DUROXIDE_PLUGIN_DIR without registering anything;
#   leases      an interval: duroxide.worker_lock_timeout and orchestration_lock_timeout
#               (the crash files use '1h': leases are freed because their owners died, not
#               because they ran out);
#   init        {options} for init (allows_streaming => 1 for a primary);
#   extension   0: no CREATE EXTENSION duroxide (default: in database postgres).
sub duroxide_node {
    my ($name, %opt) = @_;
    my $node = PostgreSQL::Test::Cluster->new($name);
    $node->init(%{ $opt{init} // {} });
    my $conf = "shared_preload_libraries = 'duroxide'\nmax_worker_processes = 16\n";
    $conf .= "duroxide.plugin_directories = '$ENV{DUROXIDE_PLUGIN_DIR}'\n"
      if $opt{plugins} || $opt{plugin_dir};
    $conf .= "duroxide.worker_lock_timeout = '$opt{leases}'\n"
      . "duroxide.orchestration_lock_timeout = '$opt{leases}'\n"
      if $opt{leases};
    $node->append_conf('postgresql.conf', $conf . ($opt{conf} // ''));
    $node->start;
    return $node if defined $opt{extension} && !$opt{extension};
    $node->safe_psql('postgres', join '',
        "CREATE EXTENSION duroxide;\n",
        map { "SELECT duroxide.register_plugin('$_');\n" } @{ $opt{plugins} // [] });
    return $node;
}

# define_three_writes($node, $pause): role wf_runner (a duroxide_user), table wf_effects and,
# as wf_runner, the SQL workflow three_writes: three SQL steps that each insert
# (<input>, <step>) into wf_effects, after pg_sleep($pause) when $pause is given, then
# return the input. Each step's write commits with its completion, exactly once.
sub define_three_writes {
    my ($node, $pause) = @_;
    my $from = defined $pause ? " FROM pg_sleep($pause)" : '';
    my $steps = join ",\n", map {
        qq{  {"kind": "sql", "query": "INSERT INTO public.wf_effects SELECT \$1, $_$from", "params": ["\$input"]}}
    } 1 .. 3;
    $node->safe_psql('postgres', qq{
CREATE ROLE wf_runner LOGIN IN ROLE duroxide_user;
CREATE TABLE wf_effects (instance text, step int);
GRANT INSERT ON wf_effects TO wf_runner;
SET ROLE wf_runner;
SELECT duroxide.define_workflow('three_writes', \$wf\$
{"kind": "seq", "steps": [
$steps,
  {"kind": "return", "value": "\$input"}]}
\$wf\$);
});
}

1;
