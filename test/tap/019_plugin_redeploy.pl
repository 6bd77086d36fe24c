# Deploying a new plugin build without a server restart (docs/operations.md, "Deploying a new
# plugin build"): duroxide.reload_plugin points a registration at another build's file; the
# workers switch at their next fetch. New turns and activities run the new build, an activity
# that started on the old build finishes on it, running instances replay on the new build, and
# a build that drops an orchestration version still in use is refused. A new file renamed over
# the loaded one is loaded too (a process never reuses the old build's copy for it); reloads of
# an unchanged file reuse what each process loaded (no descriptor per reload); a file rewritten
# in place is not loaded again, with a warning.
use strict;
use warnings;
use File::Copy qw(copy);
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $builds = $ENV{DUROXIDE_PLUGIN_DIR};
my $dir = PostgreSQL::Test::Utils::tempdir;

# Installs build $build (v1 or v2) as $dir/$name.so: written under a temporary name, then
# renamed over the target, as an admin must (never overwrite a loaded library in place).
sub deploy {
    my ($build, $name) = @_;
    copy("$builds/duroxide_test_redeploy_$build.so", "$dir/.$name.tmp") or die "copying: $!";
    chmod 0644, "$dir/.$name.tmp";
    rename("$dir/.$name.tmp", "$dir/$name.so") or die "renaming: $!";
}

my $node = duroxide_node('plugin_redeploy', conf => qq{
duroxide.activity_workers = 2
duroxide.plugin_directories = '$builds, $dir'
});
$node->safe_psql('postgres', q{
CREATE SEQUENCE redeploy_started;
CREATE TABLE redeploy_go (input text);
});

sub finished {
    my ($id) = @_;
    return $node->safe_psql('postgres',
        "SELECT status || ': ' || coalesce(output, '') "
      . "FROM duroxide.wait_for_orchestration('$id', '60 s')");
}

deploy('v1', 'redeploy_app');
is($node->safe_psql('postgres', "SELECT duroxide.register_plugin('redeploy_app')"), '3',
    'build v1 registered under the plugin name redeploy_app');
$node->safe_psql('postgres',
    "SELECT duroxide.start_orchestration('before', 'Redeploy', 'now')");
is(finished('before'), 'Completed: orchestration v1, activity v1', 'build v1 runs');

# An instance whose activity is running on build v1 while the new build is deployed.
$node->safe_psql('postgres',
    "SELECT duroxide.start_orchestration('inflight', 'Redeploy', 'k1')");
ok($node->poll_query_until('postgres', 'SELECT is_called FROM redeploy_started'),
    'an activity of build v1 is running');

deploy('v2', 'redeploy_app_v2');
is($node->safe_psql('postgres',
        "SELECT duroxide.reload_plugin('redeploy_app', 'redeploy_app_v2')"),
    '4', 'reload_plugin records the handlers of build v2 (one more activity)');
is($node->safe_psql('postgres',
        "SELECT library || ' ' || (path = '$dir/redeploy_app_v2.so') || ' ' "
      . "|| (reloaded_at IS NOT NULL) FROM duroxide.plugins WHERE name = 'redeploy_app'"),
    'redeploy_app_v2 true true', 'the registration now loads the new file');
is($node->safe_psql('postgres',
        "SELECT provider FROM duroxide.registered_handlers WHERE name = 'RedeployAddedInV2'"),
    'redeploy_app', 'the new activity is registered without unregistering the plugin');

$node->safe_psql('postgres',
    "SELECT duroxide.start_orchestration('after', 'Redeploy', 'now')");
is(finished('after'), 'Completed: orchestration v2, activity v2',
    'new turns and activities run build v2, with no restart');

# A build without Redeploy 1.0.0, which 'inflight' still runs: refused, nothing changed.
my ($rc, $out, $err) = $node->psql('postgres',
    "SELECT duroxide.reload_plugin('redeploy_app', 'duroxide_test_hello')",
    on_error_stop => 0, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/55006.*does not provide orchestration "Redeploy" version 1\.0\.0, which 1 running/,
    'a build that drops an orchestration version in use is refused');
is($node->safe_psql('postgres',
        "SELECT library || ' ' || (SELECT count(*) FROM duroxide.plugin_handlers "
      . "WHERE plugin = 'redeploy_app') FROM duroxide.plugins WHERE name = 'redeploy_app'"),
    'redeploy_app_v2 4', 'the refused reload changed nothing');
($rc, $out, $err) = $node->psql('postgres', "SELECT duroxide.reload_plugin('nope')",
    on_error_stop => 0, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/42704.*plugin "nope" is not registered/, 'an unknown registration is refused');
($rc, $out, $err) = $node->psql('postgres',
    "SELECT duroxide.reload_plugin('redeploy_app', '../redeploy_app_v2')",
    on_error_stop => 0, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/22023.*invalid plugin name/, 'a library given as a path is refused');
($rc, $out, $err) = $node->psql('postgres', "SELECT duroxide.reload_plugin(NULL)",
    on_error_stop => 0, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/22004/, 'a NULL plugin name is refused');
$node->safe_psql('postgres', 'CREATE ROLE plain LOGIN');
($rc, $out, $err) = $node->psql('postgres', "SELECT duroxide.reload_plugin('redeploy_app')",
    on_error_stop => 0, extra_params => [ '-U', 'plain' ]);
like($err, qr/permission denied/, 'a role that is not an administrator may not reload');

# The in-flight activity ends on build v1; the instance's next turn replays on build v2.
$node->safe_psql('postgres', "INSERT INTO redeploy_go VALUES ('k1')");
is(finished('inflight'), 'Completed: orchestration v2, activity v1',
    'the activity started on build v1 finished on it; the instance went on with build v2');

# The same file name, replaced by a new file (here build v1 again) renamed over it.
deploy('v1', 'redeploy_app_v2');
($rc, $out, $err) = $node->psql('postgres', "SELECT duroxide.reload_plugin('redeploy_app')");
is($out, '3', 'reload_plugin without a library reloads the file it loads');
like($err, qr/WARNING:  library "redeploy_app_v2" no longer provides activities "RedeployAddedInV2"/,
    'an activity the new build drops is named in a warning');
$node->safe_psql('postgres',
    "SELECT duroxide.start_orchestration('same-path', 'Redeploy', 'now')");
is(finished('same-path'), 'Completed: orchestration v1, activity v1',
    'a new file under the same name is loaded, not the copy already mapped');

# A reload that changes nothing (the same file again) reuses what each process loaded: a worker
# keeps one descriptor per library file it loaded (three files here: build v1, build v2, and
# build v1 again renamed over it), however often the catalog changes.
for my $round (1 .. 4) {
    $node->safe_psql('postgres', "SELECT duroxide.reload_plugin('redeploy_app')");
    $node->safe_psql('postgres',
        "SELECT duroxide.start_orchestration('again-$round', 'Redeploy', 'now')");
    is(finished("again-$round"), 'Completed: orchestration v1, activity v1',
        "unchanged reload $round runs the same build");
}
my $pids = $node->safe_psql('postgres', 'SELECT string_agg(pid::text, \' \') FROM duroxide.runtime_status');
my $most = 0;
foreach my $pid (split / /, $pids) {
    opendir(my $fds, "/proc/$pid/fd") or next;
    my $held = grep { (readlink("/proc/$pid/fd/$_") // '') =~ m{\Q$dir\E/redeploy_app} } readdir($fds);
    $most = $held if $held > $most;
}
ok($most >= 1 && $most <= 3,
    "a worker holds one descriptor per library file it loaded, not one per reload (most: $most)");

# A library rewritten in place (here with identical bytes, so the mapped code stays valid; a
# real new build written so would corrupt it): the workers keep the build they loaded and say
# why in the server log.
my $log_offset = -s $node->logfile;
{
    my $path = "$dir/redeploy_app_v2.so";
    my $bytes = PostgreSQL::Test::Utils::slurp_file($path);
    open(my $fh, '+<', $path) or die "opening $path: $!";
    binmode $fh;
    print $fh $bytes;
    close $fh or die "writing $path: $!";
    utime(time, time + 5, $path);    # a later mtime even where timestamps are coarse
}
$node->safe_psql('postgres', "SELECT duroxide.reload_plugin('redeploy_app')");
$node->safe_psql('postgres',
    "SELECT duroxide.start_orchestration('in-place', 'Redeploy', 'now')");
is(finished('in-place'), 'Completed: orchestration v1, activity v1',
    'after a rewrite in place the workers run the build they loaded');
ok($node->wait_for_log(qr/plugin library \Q$dir\E\/redeploy_app_v2\.so was overwritten in place/,
        $log_offset),
    'and the server log says the file was overwritten in place');

is($node->safe_psql('postgres',
        "SELECT count(*) FROM duroxide.executions WHERE status <> 'Completed'"),
    '0', 'nothing failed and nothing is left running');

$node->stop;
done_testing();
