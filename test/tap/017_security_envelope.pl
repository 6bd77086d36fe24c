# The activity envelope (docs/operations.md, "The activity envelope"): each attack below was
# reproduced against a worker that ran activity code in its own session state; every one must
# now fail. One activity worker, so that every activity runs in the same worker session.
#  (a) an SQL activity points the worker's search_path at a schema with its own
#      clock_timestamp(): the worker's store statements never call it, later activities see the
#      database's search_path;
#  (b) default_transaction_read_only set by an activity does not break the next one;
#  (c) creating a temporary table (with a trigger that would capture later writes) is refused;
#  (d) a session advisory lock taken by an activity is released after it;
#  (e) PREPARE is refused (and none is found by the next activity);
#  (f) a plugin activity's ctx.sql() statements get the same envelope;
#  (g) an activity longer than duroxide.activity_statement_timeout fails with a timeout error and
#      the worker goes on.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);

my $node = duroxide_node('security_envelope', plugins => ['duroxide_sample'], conf => q{
duroxide.activity_workers = 1
duroxide.poll_interval = '200ms'
duroxide.activity_statement_timeout = '2s'
});
$node->safe_psql('postgres', q{
CREATE ROLE alice LOGIN IN ROLE duroxide_admin;
CREATE SCHEMA alice AUTHORIZATION alice;
CREATE TABLE public.written (note text);
GRANT INSERT, SELECT ON public.written TO alice;
});

# alice's activities and her look-alike of pg_catalog.clock_timestamp(), which records who
# called it.
$node->safe_psql('postgres', q{
SET ROLE alice;
CREATE TABLE alice.calls (called_by text, at timestamptz DEFAULT pg_catalog.clock_timestamp());
GRANT INSERT ON alice.calls TO PUBLIC;
CREATE FUNCTION alice.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO alice.calls (called_by) VALUES (current_user);
    RETURN pg_catalog.clock_timestamp();
END $$;
CREATE FUNCTION alice.repoint(input text) RETURNS text LANGUAGE sql AS
$$ SELECT pg_catalog.set_config('search_path', 'alice, pg_catalog', false) $$;
CREATE FUNCTION alice.show(input text) RETURNS text LANGUAGE sql AS
$$ SELECT pg_catalog.current_setting(input) $$;
CREATE FUNCTION alice.read_only(input text) RETURNS text LANGUAGE sql AS
$$ SELECT pg_catalog.set_config('default_transaction_read_only', 'on', false) $$;
CREATE FUNCTION alice.write(input text) RETURNS text LANGUAGE sql AS
$$ INSERT INTO public.written VALUES (input) RETURNING 'wrote ' || note $$;
CREATE FUNCTION alice.temp_trap(input text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'CREATE TEMP TABLE written (note text)';
    RETURN 'created';
END $$;
CREATE FUNCTION alice.lock(input text) RETURNS text LANGUAGE sql AS
$$ SELECT pg_catalog.pg_advisory_lock(input::bigint)::text || 'locked' $$;
CREATE FUNCTION alice.prepare(input text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'PREPARE leaked AS SELECT 1';
    RETURN 'prepared';
END $$;
CREATE FUNCTION alice.prepared(input text) RETURNS text LANGUAGE sql AS
$$ SELECT pg_catalog.count(*)::text FROM pg_catalog.pg_prepared_statements $$;
CREATE FUNCTION alice.sleep(input text) RETURNS text LANGUAGE sql AS
$$ SELECT pg_catalog.pg_sleep(input::float8)::text || 'slept' $$;
SELECT duroxide.register_sql_activity('Repoint', 'alice.repoint(text)');
SELECT duroxide.register_sql_activity('Show', 'alice.show(text)');
SELECT duroxide.register_sql_activity('ReadOnly', 'alice.read_only(text)');
SELECT duroxide.register_sql_activity('Write', 'alice.write(text)');
SELECT duroxide.register_sql_activity('TempTrap', 'alice.temp_trap(text)');
SELECT duroxide.register_sql_activity('Lock', 'alice.lock(text)');
SELECT duroxide.register_sql_activity('Prepare', 'alice.prepare(text)');
SELECT duroxide.register_sql_activity('Prepared', 'alice.prepared(text)');
SELECT duroxide.register_sql_activity('Sleep', 'alice.sleep(text)');
});

my $default_path = $node->safe_psql('postgres', 'SHOW search_path');

# Runs activity `call` ("Name:input") in instance `id` and returns "status output-or-error".
sub run {
    my ($id, $call) = @_;
    $node->safe_psql('postgres',
        "SELECT duroxide.start_orchestration('$id', 'CallActivity', \$\$$call\$\$)");
    return $node->safe_psql('postgres',
        "SELECT status || ' ' || coalesce(output, error::text, '') "
      . "FROM duroxide.wait_for_orchestration('$id', '60 s')");
}

# Polls `query` on another session until it returns 't', for at most `seconds`.
sub within {
    my ($seconds, $query) = @_;
    my $deadline = time() + $seconds;
    while (time() < $deadline) {
        return 1 if $node->safe_psql('postgres', $query) eq 't';
        usleep(100_000);
    }
    return 0;
}

# --- (a) search_path
like(run('a-1', 'Repoint:'), qr/^Completed alice, pg_catalog/,
    'search_path: the activity set it (for itself)');
is(run('a-2', 'Show:search_path'), "Completed $default_path",
    'search_path: the next activity sees the database\'s search_path');
is(run('a-3', 'Write:after repoint'), 'Completed wrote after repoint',
    'search_path: the worker records activities as before');
is($node->safe_psql('postgres', 'SELECT count(*) FROM alice.calls'), '0',
    'search_path: the worker\'s statements never called alice.clock_timestamp()');

# --- (b) default_transaction_read_only
like(run('b-1', 'ReadOnly:'), qr/^Completed on/, 'read only: the activity set it');
is(run('b-2', 'Write:after read only'), 'Completed wrote after read only',
    'read only: the next activity writes and is recorded');
is(run('b-3', 'Show:default_transaction_read_only'), 'Completed off',
    'read only: the setting did not outlive its activity');

# --- (c) temporary objects
like(run('c-1', 'TempTrap:'),
    qr/^Failed .*cannot create temporary table within security-restricted operation/,
    'temp: creating a temporary table is refused');
is(run('c-2', 'Write:after temp'), 'Completed wrote after temp',
    'temp: later writes go to the real table');
is($node->safe_psql('postgres', "SELECT count(*) FROM public.written WHERE note = 'after temp'"),
    '1', 'temp: and are there');

# --- (d) session advisory locks
is(run('d-1', 'Lock:4242'), 'Completed locked', 'lock: the activity took a session lock');
ok(within(10,
        "SELECT count(*) = 0 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242"),
    'lock: it is released after the activity');

# --- (e) prepared statements
like(run('e-1', 'Prepare:'),
    qr/^Failed .*cannot execute PREPARE within security-restricted operation/,
    'prepare: PREPARE in an activity is refused');
is(run('e-2', 'Prepared:'), 'Completed 0', 'prepare: the next activity finds none');

# --- (f) the same for a plugin activity's ctx.sql() statements
like(run('f-1', q{SqlValue:SELECT pg_catalog.set_config('search_path', 'alice, pg_catalog', false)}),
    qr/^Completed alice, pg_catalog/, 'ctx.sql: a statement set search_path');
is(run('f-2', q{SqlValue:SELECT pg_catalog.current_setting('search_path')}),
    "Completed $default_path", 'ctx.sql: the next statement sees the database\'s search_path');
is(run('f-3', 'Write:after ctx.sql'), 'Completed wrote after ctx.sql',
    'ctx.sql: the worker records activities as before');
is($node->safe_psql('postgres', 'SELECT count(*) FROM alice.calls'), '0',
    'ctx.sql: alice.clock_timestamp() was never called');
like(run('f-4', 'SqlValue:CREATE TEMP TABLE audit_log (note text)'),
    qr/^Failed .*cannot create temporary table within security-restricted operation/,
    'ctx.sql: creating a temporary table is refused');
is(run('f-5', q{SqlValue:SELECT pg_catalog.pg_advisory_lock(4343)::text || 'locked'}), 'Completed locked',
    'ctx.sql: a statement took a session lock');
ok(within(10,
        "SELECT count(*) = 0 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4343"),
    'ctx.sql: it is released after the statement');
like(run('f-6', 'SqlValue:PREPARE leaked_too AS SELECT 1'),
    qr/^Failed .*cannot execute PREPARE within security-restricted operation/,
    'ctx.sql: PREPARE is refused');
is(run('f-7', 'SqlValue:SELECT pg_catalog.count(*) FROM pg_catalog.pg_prepared_statements'),
    'Completed 0', 'ctx.sql: the next statement finds none');

# --- (g) statement timeout (2 s here)
like(run('g-1', 'Sleep:30'),
    qr/^Failed .*SQL activity \\"Sleep\\" ran longer than its statement timeout \(2000 ms\)/,
    'timeout: an SQL activity running past its timeout fails with a timeout error');
like(run('g-2', 'SqlValue:SELECT pg_catalog.pg_sleep(30)'),
    qr/^Failed .*ran longer than its statement timeout \(2000 ms\)/,
    'timeout: so does a ctx.sql() statement');
is(run('g-3', 'Write:after timeout'), 'Completed wrote after timeout',
    'timeout: the worker goes on');

ok(!$node->log_contains(qr/search_path is no longer pinned/),
    'the worker\'s search_path stayed pinned throughout');

$node->stop;
done_testing();
