# Completion notifications (sql/objects/81_notifications.sql) seen by real listening sessions:
# a role hears the end of its own instances with the right payload and never another role's,
# the all-instances channel of an administrator hears both, a large output is left out with
# "large": true, a failure carries its error (a cancellation too), continue-as-new announces
# only the end of its last execution, nothing is sent before the recording transaction
# commits (nor when it rolls back), and custom status changes are announced only where
# duroxide.notify_custom_status is on.
#
# "Did not hear" is asserted without sleeping: notifications reach a listener in commit order,
# so once a listener has heard a later one (a marker sent after the event in question, or its
# own next instance), an earlier one on its channel would have been heard before it.
use strict;
use warnings;
use JSON::PP;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = duroxide_node('notifications', conf => q{
duroxide.orchestration_dispatchers = 1
duroxide.activity_workers = 1
});
$node->safe_psql('postgres', q{
CREATE DATABASE custom;
ALTER DATABASE custom SET duroxide.notify_custom_status = on;
CREATE ROLE alice LOGIN IN ROLE duroxide_user;
CREATE ROLE bob LOGIN IN ROLE duroxide_user;
CREATE ROLE ops LOGIN IN ROLE duroxide_admin;
});
$node->safe_psql('custom', 'CREATE EXTENSION duroxide');

my $json = JSON::PP->new->canonical;
my (%session, %heard);

sub listener {
    my ($name, $db, $user, $listen) = @_;
    $session{$name} = $node->background_psql($db, extra_params => [ '-U', $user ]);
    $heard{$name} = '';
    return $session{$name}->query_safe("SELECT duroxide.listen($listen)");
}

# The notifications a listener has printed so far (psql prints them after each statement).
sub payloads {
    my ($name) = @_;
    $heard{$name} .= $session{$name}->query_safe('SELECT 1');
    return map { $json->decode($_) }
      $heard{$name} =~ /^Asynchronous notification "[^"]*" with payload "(.*)" received from server process/mg;
}

sub wait_for {
    my ($name, $instance, $kind) = @_;
    my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
    while (time < $deadline) {
        my @found = grep { $_->{instance} eq $instance && $_->{kind} eq ($kind // 'ended') } payloads($name);
        return $found[0] if @found;
        select(undef, undef, undef, 0.05);
    }
    return undef;
}

sub heard_of {
    my ($name, $instance) = @_;
    return grep { $_->{instance} eq $instance } payloads($name);
}

sub as_role {
    my ($user, $sql, $db) = @_;
    return $node->safe_psql($db // 'postgres', $sql, extra_params => [ '-U', $user ]);
}

my $alice_channel = listener('alice', 'postgres', 'alice', '');
my $bob_channel = listener('bob', 'postgres', 'bob', '');
my $all_channel = listener('ops', 'postgres', 'ops', 'all_instances => true');
like($alice_channel, qr/^duroxide_[0-9a-f]{40}$/, 'listen() returns the channel it listens on');
isnt($alice_channel, $bob_channel, 'each role has its own channel');
isnt($all_channel, $alice_channel, 'the all-instances channel is another one');
is(as_role('alice', 'SELECT duroxide.notification_channel()'), $alice_channel,
    'notification_channel() names the same channel');

# Alice's instance: she hears it, with the output get_orchestration_status gives.
as_role('alice', q{SELECT duroxide.start_workflow_definition('a-1',
    '{"kind": "return", "value": {"answer": "$input.n"}}', '{"n": 42}')});
my $event = wait_for('alice', 'a-1');
ok($event, 'alice hears the end of her instance');
my $status = as_role('alice', q{SELECT status || '|' || output FROM duroxide.get_orchestration_status('a-1')});
is_deeply($event, { kind => 'ended', instance => 'a-1', execution => 1, status => 'Completed',
        output => (split /\|/, $status, 2)[1], custom_status_version => undef, large => JSON::PP::false },
    'the payload: kind, instance, execution, status, output, not large');
like($status, qr/^Completed\|.*42/, 'the output is the instance\'s');
ok(wait_for('ops', 'a-1'), 'the all-instances channel hears alice\'s instance');

# Bob's instance, started after a-1 ended: bob hears it, and so never heard a-1.
as_role('bob', q{SELECT duroxide.start_workflow_definition('b-1', '{"kind": "return", "value": "bob"}')});
ok(wait_for('bob', 'b-1'), 'bob hears the end of his instance');
is(scalar(heard_of('bob', 'a-1')), 0, 'bob did not hear alice\'s instance');
ok(wait_for('ops', 'b-1'), 'the all-instances channel hears bob\'s instance');

# A large output is left out; a failure carries its error. Alice has heard nothing of b-1.
as_role('alice', q{SELECT duroxide.start_workflow_definition('a-big',
    '{"kind": "return", "value": "$input"}', to_jsonb(repeat('x', 9000)))});
$event = wait_for('alice', 'a-big');
ok($event && $event->{large} && !defined $event->{output}, 'a 9000-byte output is left out, "large" set');
is(as_role('alice', q{SELECT length(output) FROM duroxide.get_orchestration_status('a-big')}), '9002',
    'get_orchestration_status still gives all of it');
is(scalar(heard_of('alice', 'b-1')), 0, 'alice did not hear bob\'s instance');
as_role('alice', q{SELECT duroxide.start_workflow_definition('a-fail', '{"kind": "fail", "message": "boom"}')});
$event = wait_for('alice', 'a-fail');
ok($event && $event->{status} eq 'Failed' && $event->{error} =~ /boom/ && !$event->{large},
    'a failure is announced with its error');

# A cancellation ends the instance as Failed; continue-as-new announces only the last end.
as_role('alice', q{SELECT duroxide.start_workflow_definition('a-cancel', '{"kind": "dequeue", "queue": "q"}')});
ok($node->poll_query_until('postgres',
        q{SELECT status = 'Running' FROM duroxide.get_orchestration_status('a-cancel')}), 'a-cancel runs');
as_role('alice', q{SELECT duroxide.cancel_instance('a-cancel', 'no longer needed')});
$event = wait_for('alice', 'a-cancel');
ok($event && $event->{status} eq 'Failed' && $event->{error} =~ /no longer needed/,
    'a cancelled instance is announced as Failed with the reason');
as_role('alice', q{SELECT duroxide.start_workflow_definition('a-loop',
    '{"kind": "loop", "max_iterations": 3, "continue_as_new_every": 1,
      "body": {"kind": "set_status", "value": "tick"}}')});
$event = wait_for('alice', 'a-loop');
my $executions = as_role('alice', q{SELECT execution_id FROM duroxide.get_orchestration_status('a-loop')});
ok($event && $event->{status} eq 'Completed' && $executions > 1 && $event->{execution} == $executions,
    "continue-as-new: the end of the last execution ($executions) is announced");
is(scalar(heard_of('alice', 'a-loop')), 1, 'and only that one');

# Only at commit. An instance that waits; its execution's row is ended by hand in a transaction
# that rolls back, then in one that commits; a marker sent while each is open comes first.
as_role('alice', q{SELECT duroxide.start_workflow_definition('a-wait', '{"kind": "dequeue", "queue": "q"}')});
ok($node->poll_query_until('postgres',
        q{SELECT status = 'Running' FROM duroxide.get_orchestration_status('a-wait')}), 'a-wait runs');
my $writer = $node->background_psql('postgres');
my $marker = 0;
sub marker {
    $marker++;
    $node->safe_psql('postgres',
        "SELECT pg_notify('$alice_channel', '{\"kind\": \"marker\", \"instance\": \"m$marker\"}')");
    return wait_for('alice', "m$marker", 'marker');
}
$writer->query_safe(q{BEGIN; UPDATE duroxide.executions SET status = 'Completed', output = '"by hand"'
                       WHERE instance_id = 'a-wait'});
ok(marker(), 'a marker sent while the transaction is open is heard');
is(scalar(heard_of('alice', 'a-wait')), 0, 'nothing is heard before the commit');
$writer->query_safe('ROLLBACK');
ok(marker(), 'a marker after the rollback is heard');
is(scalar(heard_of('alice', 'a-wait')), 0, 'a rolled-back end is never heard');
$writer->query_safe(q{BEGIN; UPDATE duroxide.executions SET status = 'Completed', output = '"by hand"'
                       WHERE instance_id = 'a-wait'});
ok(marker(), 'a marker sent while the second transaction is open is heard');
is(scalar(heard_of('alice', 'a-wait')), 0, 'still nothing before the commit');
$writer->query_safe('COMMIT');
$event = wait_for('alice', 'a-wait');
ok($event && $event->{output} eq '"by hand"', 'the end is heard once committed');
$writer->quit;

# Custom status: off by default (postgres), on where the database sets it (custom).
as_role('alice', q{SELECT duroxide.start_workflow_definition('a-status',
    '{"kind": "seq", "steps": [{"kind": "set_status", "value": "halfway"}, {"kind": "return", "value": 1}]}')});
ok(wait_for('alice', 'a-status'), 'a-status ends');
is(scalar(grep { $_->{kind} eq 'custom_status' } heard_of('alice', 'a-status')), 0,
    'no custom status notification by default');
listener('custom', 'custom', 'alice', '');
as_role('alice', q{SELECT duroxide.start_workflow_definition('c-status',
    '{"kind": "seq", "steps": [{"kind": "set_status", "value": "halfway"}, {"kind": "return", "value": 1}]}')},
    'custom');
$event = wait_for('custom', 'c-status', 'custom_status');
ok($event && $event->{custom_status} eq 'halfway' && $event->{custom_status_version} == 1
      && $event->{status} eq 'Running',
    'with duroxide.notify_custom_status on, the custom status is announced');
ok(wait_for('custom', 'c-status'), 'and then its end');

# Turned off, nothing is sent (the trigger's WHEN reads the setting of the recording session).
$node->safe_psql('postgres', q{
SELECT duroxide.start_workflow_definition('quiet', '{"kind": "dequeue", "queue": "q"}');
});
ok($node->poll_query_until('postgres',
        q{SELECT status = 'Running' FROM duroxide.get_orchestration_status('quiet')}), 'quiet runs');
$node->safe_psql('postgres', q{
SET duroxide.notify_completions = off;
UPDATE duroxide.executions SET status = 'Completed' WHERE instance_id = 'quiet';
});
$all_channel =~ /^duroxide_/ or die;
$node->safe_psql('postgres', "SELECT pg_notify('$all_channel', '{\"kind\": \"marker\", \"instance\": \"q-marker\"}')");
ok(wait_for('ops', 'q-marker', 'marker'), 'the marker after the quiet end is heard');
is(scalar(heard_of('ops', 'quiet')), 0, 'with duroxide.notify_completions off nothing is sent');

$_->quit for values %session;
done_testing();
