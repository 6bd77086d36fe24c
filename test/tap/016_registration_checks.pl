# What the worker re-checks of a registration before it runs an SQL activity (issue 14,
# findings 1 and 4; docs/operations.md, Threat model), with the server-log message that tells
# the operator what to do: a function whose definition or owner changed since registration, and
# a row naming a superuser that no superuser registered, are given back as broken registrations
# and never run.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = duroxide_node('registration_checks', plugins => ['duroxide_sample'], conf => q{
duroxide.activity_workers = 1
duroxide.max_attempts = 1
});
$node->safe_psql('postgres', q{
CREATE ROLE reg_admin IN ROLE duroxide_admin;
CREATE ROLE reg_other;
CREATE TABLE effects (what text);
GRANT INSERT, SELECT ON effects TO reg_admin, reg_other;
CREATE FUNCTION record_it(input text) RETURNS text LANGUAGE sql
    AS $$ INSERT INTO effects VALUES ('first ' || input) RETURNING what $$;
ALTER FUNCTION record_it(text) OWNER TO reg_admin;
SET ROLE reg_admin;
SELECT duroxide.register_sql_activity('RecordIt', 'record_it(text)');
});

sub run_activity {
    my ($id, $input) = @_;
    $node->safe_psql('postgres',
        "SELECT duroxide.start_orchestration('$id', 'CallActivity', '$input')");
    return $node->safe_psql('postgres',
        "SELECT status || ' ' || coalesce(output, '') || coalesce(error::text, '') "
      . "FROM duroxide.wait_for_orchestration('$id', '60 s')");
}

is(run_activity('unchanged', 'RecordIt:a'), 'Completed first a', 'the registered function runs');

# Its body is replaced (same owner): refused until it is registered again.
my $offset = -s $node->logfile;
$node->safe_psql('postgres', q{
CREATE OR REPLACE FUNCTION record_it(input text) RETURNS text LANGUAGE sql
    AS $$ INSERT INTO effects VALUES ('changed ' || input) RETURNING what $$;
});
like(run_activity('changed', 'RecordIt:b'), qr/^Failed .*Poison/, 'a changed function fails as poison');
ok($node->wait_for_log(
        qr/SQL activity "RecordIt" changed since it was registered .*re-register the activity/,
        $offset), 'the log says to register it again');

# Registered again, it runs; then its owner changes: refused.
$node->safe_psql('postgres', q{
SET ROLE reg_admin;
SELECT duroxide.unregister_sql_activity('RecordIt');
SELECT duroxide.register_sql_activity('RecordIt', 'record_it(text)');
});
is(run_activity('re-registered', 'RecordIt:c'), 'Completed changed c', 're-registered, it runs');
$offset = -s $node->logfile;
$node->safe_psql('postgres', 'ALTER FUNCTION record_it(text) OWNER TO reg_other');
like(run_activity('new-owner', 'RecordIt:d'), qr/^Failed .*Poison/,
    'a function with a new owner fails as poison');
ok($node->wait_for_log(
        qr/SQL activity "RecordIt" is now owned by role oid \d+, not by the role it runs as .*re-register the activity/,
        $offset), 'the log names the owner change');

# A row naming a superuser that no superuser registered (as an administrator could write it
# before 0.2.0): refused, never run.
$offset = -s $node->logfile;
$node->safe_psql('postgres', q{
CREATE FUNCTION as_superuser(input text) RETURNS text LANGUAGE sql
    AS $$ INSERT INTO effects VALUES ('superuser ' || input) RETURNING what $$;
INSERT INTO duroxide.sql_activities (name, function_oid, input_type, output_type, run_as,
                                     registered_by_superuser, definition_hash)
VALUES ('Forged', 'as_superuser(text)', 'text', 'text', current_user::regrole, false,
        duroxide._function_fingerprint('as_superuser(text)'));
});
like(run_activity('forged', 'Forged:e'), qr/^Failed .*Poison/, 'the forged row fails as poison');
ok($node->wait_for_log(
        qr/refusing to run SQL activity "Forged" as superuser role \(oid \d+\): no superuser registered it/,
        $offset), 'the log says why');
# Registered by a superuser, the same function runs.
$node->safe_psql('postgres', q{
SELECT duroxide.unregister_sql_activity('Forged');
SELECT duroxide.register_sql_activity('AsSuperuser', 'as_superuser(text)');
});
is(run_activity('by-superuser', 'AsSuperuser:f'), 'Completed superuser f',
    'registered by a superuser, it runs as one');

is($node->safe_psql('postgres', "SELECT string_agg(what, ',' ORDER BY what) FROM effects"),
    'changed c,first a,superuser f', 'only the accepted runs wrote');

$node->stop;
done_testing();
