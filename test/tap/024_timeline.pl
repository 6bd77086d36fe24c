# The picture of an instance: duroxide.instance_timeline_svg on real histories (a retried
# activity, a timer race whose loser is cancelled, a cancelled parent and its child) is valid
# XML (xmllint), has the rows the history says, and headless Chromium draws it with the
# outcome colours (not a blank page); instance_graph_mermaid gives the tree. Hostile ids stay
# text. A role that may not reach an instance gets the error of an id that does not exist.
use strict;
use warnings;
use File::Temp qw(tempdir);
use IPC::Run qw(run timeout);
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $chromium = '/usr/bin/chromium';
-x $chromium && -x '/usr/bin/xmllint'
  or BAIL_OUT('chromium or xmllint is missing: apt-get install chromium libxml2-utils '
      . '(scripts/install-deps.sh)');

my $node = duroxide_node('timeline', plugins => ['duroxide_sample'], conf => q{
duroxide.orchestration_dispatchers = 1
duroxide.activity_workers = 2
});
$node->safe_psql('postgres', q{
CREATE ROLE alice LOGIN IN ROLE duroxide_user;
CREATE ROLE bob LOGIN IN ROLE duroxide_user;
SELECT duroxide.start_orchestration('retry', 'Retrying', 'x');
SELECT duroxide.start_orchestration('race', 'TimeoutRace', '');
SELECT duroxide.start_orchestration('tree', 'ParentOfWaiter', '');
SELECT duroxide.start_orchestration('evil<&"''>]]>', 'HelloWorld', '<b>&amp;');
});
$node->safe_psql('postgres', q{SELECT * FROM duroxide.wait_for_orchestration('evil<&"''>]]>', '30 s')});
$node->safe_psql('postgres', qq{SELECT * FROM duroxide.wait_for_orchestration('$_', '30 s')})
  for qw(retry race);
# The parent is cancelled once its child waits for the event.
ok($node->poll_query_until('postgres', q{
SELECT EXISTS (SELECT FROM duroxide.get_instance_tree('tree') t, duroxide.read_history(t.instance_id) h
                WHERE t.depth = 1 AND h.event_type = 'ExternalSubscribed')}),
    'the child of "tree" waits');
$node->safe_psql('postgres', q{
SELECT duroxide.cancel_instance('tree', 'operator');
SELECT * FROM duroxide.wait_for_orchestration('tree', '30 s');
});
ok($node->poll_query_until('postgres',
        "SELECT bool_and(status = 'Failed') FROM duroxide.get_instance_tree('tree')"),
    'the parent and its child ended');

my $dir = tempdir(CLEANUP => 1);

sub svg_of {
    my ($instance) = @_;
    (my $quoted = $instance) =~ s/'/''/g;
    my $svg = $node->safe_psql('postgres', "SELECT duroxide.instance_timeline_svg('$quoted')");
    (my $file = "$dir/$instance.svg") =~ s/[^\w\/.-]/_/g;
    open my $fh, '>', $file or die $!;
    print $fh $svg;
    close $fh;
    return ($svg, $file);
}

sub valid_xml {
    my ($file) = @_;
    my ($out, $err) = ('', '');
    my $ok = run([ 'xmllint', '--noout', $file ], '>', \$out, '2>', \$err);
    diag($err) unless $ok;
    return $ok;
}

sub count_of {
    my ($text, $what) = @_;
    my $n = () = $text =~ /\Q$what\E/g;
    return $n;
}

# A retried activity: FailTwice fails twice (20 ms backoff timers), then succeeds.
my ($svg, $file) = svg_of('retry');
ok(valid_xml($file), 'retry: the SVG is well-formed XML');
is(count_of($svg, '<g class="row '), 6, 'retry: the instance, three attempts and two timers');
is(count_of($svg, '<g class="row instance completed"'), 1, 'retry: the instance completed');
is(count_of($svg, '<g class="row activity failed" data-attempt="1"'), 1, 'retry: attempt 1 failed');
is(count_of($svg, '<g class="row activity failed" data-attempt="2"'), 1, 'retry: attempt 2 failed');
is(count_of($svg, '<g class="row activity completed" data-attempt="3"'), 1,
    'retry: attempt 3 completed');
is(count_of($svg, '<g class="row timer completed"'), 2, 'retry: the two backoff timers fired');
is(count_of($svg, 'class="retry"'), 2, 'retry: the two retries are marked');

# Headless Chromium draws it: not blank, with red (failed) and green (completed) bars.
my $png = "$dir/retry.png";
my ($out, $err) = ('', '');
my @chrome = ($chromium, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
    '--no-first-run', '--disable-dev-shm-usage', "--user-data-dir=$dir/profile",
    '--window-size=1100,300', "--screenshot=$png", "file://$file");
{
    local $ENV{HOME} = $dir;
    local $ENV{TMPDIR} = $dir; # its socket directory, writable by the test user
    run(\@chrome, '>', \$out, '2>', \$err, timeout(50)) or diag("chromium: $err");
}
ok(-s $png, 'chromium wrote a screenshot');
my $colours = `python3 $ENV{DUROXIDE_TOP}/test/tap/png_colours.py '$png' e53935 43a047 ffffff`;
chomp $colours;
like($colours, qr/^colours (\d+)/, "the screenshot decodes ($colours)");
my %c = $colours =~ /(\w+)=(\d+)/g;
my ($distinct) = $colours =~ /^colours (\d+)/;
ok(($distinct // 0) > 1, 'the screenshot is not blank (more than one colour)');
ok(($c{e53935} // 0) > 100, 'failed attempts are drawn red');
ok(($c{'43a047'} // 0) > 100, 'completed work is drawn green');

# A timer race: the activity that lost is cancelled; the orchestration failed.
($svg, $file) = svg_of('race');
ok(valid_xml($file), 'race: well-formed');
is(count_of($svg, '<g class="row activity cancelled"'), 1, 'race: the losing activity is cancelled');
is(count_of($svg, 'fill="url(#hatch)" class="bar"'), 1, 'race: and hatched');
is(count_of($svg, '<g class="row timer completed"'), 1, 'race: the timer fired');
is(count_of($svg, '<g class="row instance failed"'), 1, 'race: the instance failed');

# A cancelled parent and its child: the tree, the child's rows one level deeper.
($svg, $file) = svg_of('tree');
ok(valid_xml($file), 'tree: well-formed');
is(count_of($svg, '<g class="row instance cancelled"'), 2, 'tree: parent and child cancelled');
is(count_of($svg, '<g class="row suborchestration cancelled"'), 1,
    "tree: the parent's sub-orchestration row is cancelled");
is(count_of($svg, '<g class="row wait cancelled"'), 1, "tree: the child's wait is cancelled");
like($svg, qr/>WaitForGo tree::sub::\d+<\/text>/, 'tree: the child is labelled with its id');
my $mermaid = $node->safe_psql('postgres', q{SELECT duroxide.instance_graph_mermaid('tree')});
like($mermaid, qr/\Agraph TD\n    n0\["ParentOfWaiter<br\/>tree<br\/>Failed"\]\n    n1\["WaitForGo<br\/>tree::sub::\d+<br\/>Failed"\]\n    n0 --> n1\n/,
    'tree: the Mermaid graph has the parent, the child and the edge');

# Hostile ids and inputs stay text.
($svg, $file) = svg_of(q{evil<&"'>]]>});
ok(valid_xml($file), 'a hostile instance id: still well-formed');
like($svg, qr/evil&lt;&amp;&quot;&apos;&gt;\]\]&gt;/, 'the id is escaped');

# Per-role isolation: bob sees alice's instance exactly as an id that does not exist.
$node->safe_psql('postgres', q{SELECT duroxide.start_orchestration('alice-1', 'HelloWorld', 'a')},
    extra_params => [ '-U', 'alice' ]);
like($node->safe_psql('postgres', q{SELECT duroxide.instance_timeline_svg('alice-1')},
        extra_params => [ '-U', 'alice' ]), qr/^<\?xml/, 'alice draws her instance');
sub error_of {
    my ($sql, $verbosity) = @_;
    my (undef, undef, $err) = $node->psql('postgres', "\\set VERBOSITY $verbosity\n$sql",
        extra_params => [ '-U', 'bob' ]);
    return $err;
}
for my $fn (qw(instance_timeline_svg instance_graph_mermaid)) {
    my $theirs = error_of("SELECT duroxide.$fn('alice-1')", 'default');
    (my $missing = error_of("SELECT duroxide.$fn('nobody')", 'default')) =~ s/nobody/alice-1/g;
    like($theirs, qr/instance "alice-1" does not exist/, "$fn: bob is told alice-1 does not exist");
    is($theirs, $missing, "$fn: the same error as for an id that does not exist");
    is(error_of("SELECT duroxide.$fn('alice-1')", 'sqlstate'), "psql:<stdin>:2: ERROR:  P0002",
        "$fn: SQLSTATE P0002 (no_data_found)");
    # Bad ids: the instance id conventions of the other client functions.
    is(error_of("SELECT duroxide.$fn(NULL)", 'sqlstate'), "psql:<stdin>:2: ERROR:  22004",
        "$fn: NULL is 22004");
    is(error_of("SELECT duroxide.$fn('')", 'sqlstate'), "psql:<stdin>:2: ERROR:  22023",
        "$fn: an empty id is 22023");
}

$node->stop;
done_testing();
