# duroxide.plugin_directories: a plugin outside $libdir is found only when a superuser lists its
# directory; the workers then run it from there. Relative entries are refused, and only a
# superuser may set the list. A library reached through a link that leads outside its directory,
# one writable by others, and one in a directory writable by others are refused.
use strict;
use warnings;
use File::Copy qw(copy);
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = duroxide_node('plugin_dirs', conf => q{
duroxide.activity_workers = 1
});

# The sample plugin (built into the test's plugin directory, never into $libdir) under another
# name, in a directory of its own.
my $elsewhere = PostgreSQL::Test::Utils::tempdir;
copy("$ENV{DUROXIDE_PLUGIN_DIR}/duroxide_sample.so", "$elsewhere/sample_elsewhere.so")
  or die "copying the sample plugin: $!";

my ($rc, $out, $err) = $node->psql('postgres',
    "SELECT duroxide.register_plugin('sample_elsewhere')", on_error_stop => 0);
like($err, qr/plugin "sample_elsewhere" not found/, 'not found while its directory is not listed');
is($node->safe_psql('postgres', 'SELECT count(*) FROM duroxide.plugins'), '0',
    'nothing recorded for it');

$node->safe_psql('postgres', "ALTER SYSTEM SET duroxide.plugin_directories = 'relative/dir'");
$node->reload;
($rc, $out, $err) = $node->psql('postgres',
    "SELECT duroxide.register_plugin('sample_elsewhere')", on_error_stop => 0);
like($err, qr/entries must be absolute paths/, 'a relative entry is refused');

$node->safe_psql('postgres', "ALTER SYSTEM SET duroxide.plugin_directories = '$elsewhere'");
$node->reload;
ok($node->poll_query_until('postgres',
        "SELECT current_setting('duroxide.plugin_directories') = '$elsewhere'"),
    'the list is reloaded');
cmp_ok($node->safe_psql('postgres', "SELECT duroxide.register_plugin('sample_elsewhere')"),
    '>', 0, 'registered from the listed directory');
is($node->safe_psql('postgres',
        "SELECT path = '$elsewhere/sample_elsewhere.so' FROM duroxide.plugins "
      . "WHERE name = 'sample_elsewhere'"),
    't', 'its path is recorded');
$node->safe_psql('postgres',
    "SELECT duroxide.start_orchestration('elsewhere', 'HelloWorld', 'World')");
is($node->safe_psql('postgres',
        "SELECT status || ' ' || output FROM duroxide.wait_for_orchestration('elsewhere', '60 s')"),
    'Completed Hello, World!', 'the workers run its orchestration and activity');

# A duroxide_admin that is not a superuser may not widen the list.
$node->safe_psql('postgres', 'CREATE ROLE plugin_admin LOGIN IN ROLE duroxide_admin');
($rc, $out, $err) = $node->psql('postgres',
    "SET duroxide.plugin_directories = '/tmp'", extra_params => [ '-U', 'plugin_admin' ],
    on_error_stop => 0);
like($err, qr/parameter "duroxide.plugin_directories" cannot be changed now/,
    'no session widens the list for itself');
($rc, $out, $err) = $node->psql('postgres',
    "ALTER SYSTEM SET duroxide.plugin_directories = '/tmp'",
    extra_params => [ '-U', 'plugin_admin' ], on_error_stop => 0);
like($err, qr/must be superuser|permission denied/, 'a duroxide_admin may not change it');
is($node->safe_psql('postgres', 'SHOW duroxide.plugin_directories'), $elsewhere,
    'the list is unchanged');

# --- what is refused in a listed directory
my $outside = PostgreSQL::Test::Utils::tempdir;
copy("$ENV{DUROXIDE_PLUGIN_DIR}/duroxide_sample.so", "$outside/real_sample.so") or die "copying: $!";
symlink("$outside/real_sample.so", "$elsewhere/linked_sample.so") or die "symlink: $!";
($rc, $out, $err) = $node->psql('postgres',
    "SELECT duroxide.register_plugin('linked_sample')", on_error_stop => 0);
like($err, qr/plugin "linked_sample" is not loaded: it resolves outside \Q$elsewhere\E/,
    'a link leading outside its directory is refused');

copy("$ENV{DUROXIDE_PLUGIN_DIR}/duroxide_sample.so", "$elsewhere/open_sample.so") or die "copying: $!";
chmod(0666, "$elsewhere/open_sample.so") or die "chmod: $!";
($rc, $out, $err) = $node->psql('postgres',
    "SELECT duroxide.register_plugin('open_sample')", on_error_stop => 0);
like($err, qr/plugin "open_sample" is not loaded: the library is writable by its group or by others/,
    'a library writable by others is refused');

my $wide = PostgreSQL::Test::Utils::tempdir;
copy("$ENV{DUROXIDE_PLUGIN_DIR}/duroxide_sample.so", "$wide/wide_sample.so") or die "copying: $!";
chmod(0777, $wide) or die "chmod: $!";
$node->safe_psql('postgres',
    "ALTER SYSTEM SET duroxide.plugin_directories = '$elsewhere, $wide'");
$node->reload;
ok($node->poll_query_until('postgres',
        "SELECT current_setting('duroxide.plugin_directories') = '$elsewhere, $wide'"),
    'the wider list is reloaded');
($rc, $out, $err) = $node->psql('postgres',
    "SELECT duroxide.register_plugin('wide_sample')", on_error_stop => 0);
like($err, qr/plugin "wide_sample" is not loaded: its directory \Q$wide\E is writable by its group or by others/,
    'a library in a directory writable by others is refused');
like($err, qr/HINT:  Install plugins as root or as the server's user/,
    'with a hint');
is($node->safe_psql('postgres',
        "SELECT count(*) FROM duroxide.plugins WHERE name IN ('linked_sample', 'open_sample', 'wide_sample')"),
    '0', 'nothing recorded for the refused ones');

$node->stop;
done_testing();
