# The Debian package and the PGXN metadata. First the versions: duroxide.control's
# default_version, META.json (the distribution and the extension it provides) and the upstream
# part of debian/changelog's version must agree, so a version bump that forgets one fails here;
# META.json is valid PGXN meta-spec 1.0.0 and says the license debian/copyright says;
# debian/control is what `pg_buildext updatecontrol` makes of debian/control.in.
# Then scripts/build-deb.sh builds postgresql-15-duroxide from a clean copy of the checkout (with
# the objects scripts/test.sh compiled, so that only what is out of date compiles again); the
# test reads its control file and file list, runs lintian, unpacks it into a private copy of the
# PostgreSQL installation this suite runs against (never the system's: the copy has no duroxide
# of its own, so the server can only load the package's files), starts a server on that copy and
# runs `make installcheck` (every pg_regress suite) from the package's source copy.
use strict;
use warnings;
use File::Copy qw(copy);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $top = $ENV{DUROXIDE_TOP} or BAIL_OUT('DUROXIDE_TOP is not set (scripts/run-tap-suites.sh)');
for my $program (qw(dpkg-buildpackage dh pg_buildext lintian)) {
    system("command -v $program >/dev/null 2>&1") == 0
      or BAIL_OUT("$program is missing: scripts/install-deps.sh installs debhelper, "
          . 'postgresql-server-dev-all and lintian');
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or die "$path: $!";
    local $/;
    return scalar <$fh>;
}

# ---- versions and metadata ------------------------------------------------------------------
my ($version) = slurp("$top/duroxide.control") =~ /^default_version\s*=\s*'([^']+)'/m;
ok(defined $version, "duroxide.control has a default_version ($version)");

my $meta = eval { JSON::PP->new->decode(slurp("$top/META.json")) };
ok($meta, 'META.json is valid JSON') or diag($@);
$meta //= {};
for my $key (qw(name abstract version maintainer license provides meta-spec)) {
    ok(exists $meta->{$key}, "META.json has the required key '$key'");
}
is($meta->{'meta-spec'}{version}, '1.0.0', 'META.json follows PGXN meta-spec 1.0.0');
is($meta->{name}, 'duroxide', 'the distribution is duroxide');
is($meta->{version}, $version, "META.json's version is duroxide.control's default_version");
is($meta->{provides}{duroxide}{version}, $version,
    'and so is the version of the extension it provides');
ok(-f "$top/$meta->{provides}{duroxide}{file}",
    "the file it names for the extension exists ($meta->{provides}{duroxide}{file})");
ok(-f "$top/$meta->{provides}{duroxide}{docfile}", 'and so does its docfile');
like($meta->{prereqs}{runtime}{requires}{PostgreSQL} // '', qr/^15\.\d+\.\d+$/,
    'it requires PostgreSQL 15 or later');
ok(ref $meta->{maintainer} eq 'ARRAY' ? @{ $meta->{maintainer} } : $meta->{maintainer},
    'it names the maintainer');

chomp(my $deb_version = `cd '$top' && dpkg-parsechangelog -S Version`);
(my $upstream = $deb_version) =~ s/-[^-]+$//;
is($upstream, $version, "debian/changelog's upstream version ($deb_version) is $version");

my %spdx = (mit => 'MIT', postgresql => 'PostgreSQL', apache_2_0 => 'Apache-2.0',
    bsd => 'BSD-3-clause');
my ($copyright_license) = slurp("$top/debian/copyright") =~ /^Files: \*\n(?:.+\n)*?License: (\S+)/m;
is($copyright_license, $spdx{ $meta->{license} } // "(META.json says $meta->{license})",
    "debian/copyright's license is META.json's ($meta->{license})");

# debian/control must be regenerated when control.in or pgversions change; checkcontrol writes
# its temporary file next to them, so it runs on a copy.
my $work = tempdir('duroxide-deb-XXXXXX', DIR => $ENV{TESTDIR} // '/tmp', CLEANUP => 1);
# The build and lintian write temporary files; the TMPDIR of the caller may not be ours.
$ENV{TMPDIR} = $work;
make_path("$work/ctl/debian");
copy("$top/debian/$_", "$work/ctl/debian/$_") or die "$_: $!"
  for qw(control control.in pgversions changelog);
my $checkcontrol = `cd '$work/ctl' && pg_buildext checkcontrol 2>&1`;
is($?, 0, 'debian/control is up to date with debian/control.in (pg_buildext checkcontrol)')
  or diag($checkcontrol);

# ---- the package ---------------------------------------------------------------------------
my $pg_major = (split /\s+/, `pg_config --version`)[1] =~ s/\..*//sr;
my $package = "postgresql-$pg_major-duroxide";
# The package is built with Debian's PostgreSQL of each major of debian/pgversions, and the test
# copies the installation the suite runs against, laid out as Debian lays it out. A suite run
# against another server (a major built from source) cannot test the package.
chomp(my $bindir = `pg_config --bindir`);
my @majors = split /\s+/, `cd '$top' && pg_buildext supported-versions`;
unless ((grep { $_ eq $pg_major } @majors)
    && $bindir =~ m{/usr/lib/postgresql/$pg_major/bin$}
    && -x "/usr/lib/postgresql/$pg_major/bin/pg_config")
{
    diag("package not tested: it is built for PostgreSQL @majors with Debian's layout, and "
          . "this suite runs against $bindir");
    done_testing();
    exit 0;
}
my $out = "$work/out";
my $source = "$work/source";
my $started = time;
# No -dbgsym package (noddebs): this test does not look at it, and it need not be compressed.
local $ENV{DEB_BUILD_OPTIONS} = 'parallel=2 noddebs';
my $build = `'$top/scripts/build-deb.sh' --objects-from '$top' --keep-source '$source' '$out' 2>&1`;
is($?, 0, 'scripts/build-deb.sh builds the package') or diag($build);
note($build);
note('package build: ' . (time - $started) . ' s');
my ($deb) = glob("$out/${package}_*.deb");
ok(defined $deb && -f $deb, "it made $package") or BAIL_OUT('no package to test');

my %control = map { /^(\S+): (.*)$/ ? ($1 => $2) : () } split /\n/, `dpkg-deb -f '$deb'`;
is($control{Version}, $deb_version, "the package's version is debian/changelog's");
is($control{Architecture}, `dpkg --print-architecture` =~ s/\s+//r, 'it is built for this machine');
my %depends = map { /^\s*(\S+)/ ? ($1 => 1) : () } split /,/, $control{Depends} // '';
ok($depends{"postgresql-$pg_major"}, "it depends on postgresql-$pg_major")
  or diag("Depends: $control{Depends}");
ok((grep { /^libboost-context/ } keys %depends), 'on Boost.Context (shlibs)');
ok((grep { /^libcurl/ } keys %depends), 'on libcurl (shlibs)');
ok((grep { /^libstdc\+\+/ } keys %depends), 'and on libstdc++ (shlibs)');

my @files = map { m{^\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\.(/\S*)} ? $1 : () } split /\n/,
  `dpkg-deb -c '$deb'`;
my %has = map { $_ => 1 } @files;
my $lib = "/usr/lib/postgresql/$pg_major/lib";
my $ext = "/usr/share/postgresql/$pg_major/extension";
my $doc = "/usr/share/doc/$package";
# The released versions' install scripts and upgrades (committed) and the upgrades to this one
# (built from sql/upgrade/).
my %scripts = map { (s{.*/}{}r) => 1 } glob("$top/sql/duroxide--*.sql");
$scripts{ 'duroxide--' . (s{.*/}{}r) } = 1 for glob("$top/sql/upgrade/*--$version.sql");
$scripts{"duroxide--$version.sql"} = 1;
ok($scripts{"duroxide--0.1.0--$version.sql"}, "there is an upgrade from 0.1.0 to $version");
for my $file ("$lib/duroxide.so", "$ext/duroxide.control", (map { "$ext/$_" } sort keys %scripts),
    "$ext/duroxide_exporter_queries.yaml",
    "/usr/include/postgresql/$pg_major/server/extension/duroxide/duroxide.hpp",
    "$doc/copyright", "$doc/changelog.Debian.gz")
{
    ok($has{$file}, "the package has $file");
}
for my $md ('README.md', map { s{.*/}{}r } glob("$top/docs/*.md")) {
    ok($has{"$doc/$md"} || $has{"$doc/$md.gz"}, "and the documentation $md");
}
is(join(' ', grep { /duroxide_test|duroxide_sample|loader_tests|redeploy|\.o$/ } @files), '',
    'but nothing of the tests (duroxide_test, the test plugins) and no object files');

# lintian: errors fail the test. Its warnings are printed; these are accepted (docs/development.md):
# an UNRELEASED first entry that closes no ITP bug.
my $lintian = `lintian --fail-on error --suppress-tags initial-upload-closes-no-bugs '$deb' 2>&1`;
is($?, 0, 'lintian finds no error in the package') or diag($lintian);
note("lintian: $lintian");

# ---- the remote worker's own package: a program, no server needed -----------------------------
my ($worker_deb) = glob("$out/duroxide-worker_*.deb");
ok(defined $worker_deb && -f $worker_deb, 'it made duroxide-worker') or BAIL_OUT('no worker package');
my %worker_control = map { /^(\S+): (.*)$/ ? ($1 => $2) : () } split /\n/, `dpkg-deb -f '$worker_deb'`;
is($worker_control{Version}, $deb_version, "the worker package's version is debian/changelog's");
my %worker_depends = map { /^\s*(\S+)/ ? ($1 => 1) : () } split /,/, $worker_control{Depends} // '';
ok($worker_depends{libpq5}, 'the worker depends on libpq5 (shlibs)')
  or diag("Depends: $worker_control{Depends}");
ok(!(grep { /^postgresql-\d/ } keys %worker_depends), 'and on no PostgreSQL server');
my %worker_has = map { m{^\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\.(/\S*)} ? ($1 => 1) : () } split /\n/,
  `dpkg-deb -c '$worker_deb'`;
ok($worker_has{'/usr/bin/duroxide-worker'}, 'the worker package has /usr/bin/duroxide-worker');
ok($worker_has{'/usr/share/man/man1/duroxide-worker.1.gz'}, 'and its manual page');
is(join(' ', grep { /duroxide-worker/ } @files), '', 'the extension package does not carry it');
my $worker_root = "$work/worker-root";
is(system('dpkg-deb', '-x', $worker_deb, $worker_root), 0, 'dpkg-deb -x unpacks the worker');
my $help = `'$worker_root/usr/bin/duroxide-worker' --help 2>&1`;
is($?, 0, 'the packaged worker runs (--help)') or diag($help);
# The manual page lists exactly the options --help lists (they drift apart otherwise).
my %help_options = map { $_ => 1 } $help =~ /(--[a-z][a-z-]+)/g;
my $man = `zcat '$worker_root/usr/share/man/man1/duroxide-worker.1.gz'`;
my %man_options = map { (s/\\//gr) => 1 } $man =~ /(\\-\\-[a-z](?:[a-z]|\\-)*)/g;
is(join(' ', sort keys %man_options), join(' ', sort keys %help_options),
    'the manual page documents the options of --help');
my $worker_lintian = `lintian --fail-on error --suppress-tags initial-upload-closes-no-bugs '$worker_deb' 2>&1`;
is($?, 0, 'lintian finds no error in the worker package') or diag($worker_lintian);
note("lintian (worker): $worker_lintian");

# ---- installed into a private copy of PostgreSQL, then make installcheck ----------------------
chomp(my $sharedir = `pg_config --sharedir`);
chomp(my $includedir = `pg_config --includedir`);
(my $pg_home = $bindir) =~ s{/bin$}{};
my $root = "$work/root";
make_path("$root/usr/lib/postgresql", "$root/usr/share/postgresql", "$root/usr/include");
system('cp', '-a', $pg_home, "$root/usr/lib/postgresql/$pg_major") == 0 or die 'cp lib';
system('cp', '-a', $sharedir, "$root/usr/share/postgresql/$pg_major") == 0 or die 'cp share';
system('cp', '-a', $includedir, "$root/usr/include/postgresql") == 0 or die 'cp include';
# What scripts/test.sh installed stays (the test extension duroxide_test); duroxide goes.
unlink glob("$root$lib/duroxide.so $root$ext/duroxide.control $root$ext/duroxide--*.sql "
      . "$root$ext/duroxide_exporter_queries.yaml");
remove_tree("$root/usr/include/postgresql/$pg_major/server/extension/duroxide");
my @clash = grep { !-d "$root$_" && -e "$root$_" } @files;
is("@clash", '', 'the copy holds none of the package\'s files before it is unpacked');
is(system('dpkg-deb', '-x', $deb, $root), 0, 'dpkg-deb -x unpacks the package into the copy');
ok(-f "$root$lib/duroxide.so" && -f "$root$ext/duroxide--$version.sql",
    'the library and the install script are in place');

my $node = PostgreSQL::Test::Cluster->new('debian',
    install_path => "$root/usr/lib/postgresql/$pg_major");
$node->init;
# As docs/development.md says `make installcheck` needs (and scripts/pg-cluster.sh makes).
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'duroxide'
duroxide.plugin_directories = '$ENV{DUROXIDE_PLUGIN_DIR}'
max_worker_processes = 32
lc_messages = 'C'
duroxide.poll_interval = 200
fsync = off
});
$node->start;
is($node->safe_psql('postgres', q{SELECT setting FROM pg_settings WHERE name = 'dynamic_library_path'}),
    '$libdir', 'the server loads libraries from its own $libdir only');
is($node->safe_psql('postgres', 'CREATE EXTENSION duroxide; '
          . 'SELECT extversion FROM pg_extension WHERE extname = \'duroxide\''),
    $version, "CREATE EXTENSION duroxide installs $version from the package");
$node->safe_psql('postgres', 'DROP EXTENSION duroxide CASCADE');

my $regress_count = () = slurp("$source/test/regress/schedule") =~ /^test:/mg;
$started = time;
my $installcheck = `cd '$source' && PGHOST='${\$node->host}' PGPORT='${\$node->port}' make installcheck PG_CONFIG='$root/usr/lib/postgresql/$pg_major/bin/pg_config' 2>&1`;
my $rc = $?;
note('make installcheck: ' . (time - $started) . ' s');
is($rc, 0, 'make installcheck passes against the packaged extension')
  or diag($installcheck . (-f "$source/build/regress/regression.diffs"
        ? slurp("$source/build/regress/regression.diffs") : ''));
like($installcheck, qr/All $regress_count tests passed/,
    "all $regress_count pg_regress suites of the schedule passed");
like($installcheck, qr{\Q$root\E/usr/lib/postgresql/$pg_major/lib/pgxs/\S*/pg_regress },
    "with the copy's pg_regress");
$node->stop;

done_testing();
