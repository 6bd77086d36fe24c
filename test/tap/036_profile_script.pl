# bench/profile.sh, the perf profiles of issue 21, still works: a small seq3 run (50 instances)
# reports the dispatcher's and the activity workers' samples with stacks that reach the store's
# C++ operations in duroxide.so, counts the store's statements with pg_stat_statements, and
# leaves no perf or server process behind. Skipped, with the reason, where perf is not
# installed or may not record (perf_event_paranoid, a container's seccomp profile).
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Copy qw(copy);

my $top = $ENV{DUROXIDE_TOP} or BAIL_OUT('DUROXIDE_TOP is not set (run through scripts/run-tap-suites.sh)');
my $tmp = PostgreSQL::Test::Utils::tempdir();
$ENV{TMPDIR} = $tmp;

my $check = `bash $top/bench/profile.sh --check 2>&1`;
if ($? != 0) {
    chomp $check;
    plan skip_all => "perf cannot profile here: $check";
}

# The benchmark plugin (its orchestrations), built into this test's directory: the test may run
# as a user that cannot write into the checkout.
mkdir "$tmp/plugin" or die;
copy("$top/bench/plugin/$_", "$tmp/plugin/$_") or die "copy $_: $!"
  for qw(Makefile duroxide_bench.cpp);
my $build = `make -C $tmp/plugin PLUGIN_DIR=$tmp/plugins install 2>&1`;
is($?, 0, 'the benchmark plugin builds') or diag($build);
$ENV{DUROXIDE_PLUGIN_DIR} = "$tmp/plugins";

my $out = "$tmp/profile";
my $report = `bash $top/bench/profile.sh --no-build --workloads seq3 --n 50 --out $out 2>&1`;
is($?, 0, 'bench/profile.sh --workloads seq3 --n 50 succeeds') or diag($report);

like($report, qr/^=== seq3 \(BenchSeq3\): 50 instances in /m, 'the report has the seq3 section');
for my $role ('dispatcher', 'activity worker') {
    like($report, qr/^--- role: \Q$role\E \(pids \d+.*\)\n    samples [1-9]\d*, CPU /m,
        "the $role role is reported with samples");
}
like($report, qr/^--- role: client backend \(pids \d+\)/m, 'the client backend is a role of its own');
like($report, qr/share by DSO \(leaf frame\):\n\s+.*postgres \d+\.\d%/,
    'the DSO shares name the postgres binary');
# A named frame of duroxide.so in the stacks: the store's operations are found through them.
like($report, qr/us\/wf  store::(Store|PgOrchestrationProvider|PgActivityProvider)::\w+/,
    'stacks reach the store operations in duroxide.so');
like($report, qr/^\s+[\d.]+%\s+[\d.]+ us\/wf\s+executor start-up \(ExecutorStart\)$/m,
    'the executor start-up centre is measured');
like($report, qr/^\s+[\d.]+\s+[\d.]+\s+\d+\s+.*duroxide\.orchestrator_queue/m,
    'pg_stat_statements lists a store statement on the orchestrator queue');
like($report, qr/top-level statements per workflow: [1-9]/, 'statements per workflow are counted');
like($report, qr/^\| seq3 \| dispatcher \| \d+ \| \d+% \|/m,
    'the summary table has the dispatcher\'s CPU per workflow');
ok(-s "$out/report.txt", 'the report is written to --out');
ok(-s "$out/seq3.dispatcher.folded", 'folded stacks are written for flame graphs');

# Nothing left running: no process whose command line names this run's output directory
# (perf record -o $out/...) or the throwaway cluster under this test's TMPDIR.
my @left;
for my $proc (glob '/proc/[0-9]*') {
    open my $fh, '<', "$proc/cmdline" or next;
    my $cmd = do { local $/; <$fh> } // '';
    close $fh;
    $cmd =~ s/\0/ /g;
    push @left, "$proc: $cmd" if index($cmd, $tmp) >= 0 && $proc ne "/proc/$$";
}
is_deeply(\@left, [], 'no perf or server process is left running') or diag(join "\n", @left);

done_testing();
