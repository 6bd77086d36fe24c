# The upgrade path: every released version's install script, followed by ALTER EXTENSION duroxide
# UPDATE, gives exactly the schema of a fresh install (tables, columns in order, defaults,
# constraints, indexes, functions with their bodies and settings, views, privileges, comments).
# Workers of a database left at an old version wait without touching it, and resume its work
# after the update.
use strict;
use warnings;
use File::Basename;
use FindBin;
use lib "$FindBin::RealBin/lib";
use DuroxideTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = duroxide_node('upgrade', plugin_dir => 1, extension => 0, conf => q{
duroxide.activity_workers = 1
duroxide.poll_interval = '200ms'
});

# One line per fact of the extension's schema, sorted.
my $describe = q{
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'duroxide'),
members AS (
    SELECT classid, objid FROM pg_depend, ext
     WHERE refclassid = 'pg_extension'::regclass AND refobjid = ext.oid AND deptype = 'e'
),
rels AS (SELECT c.* FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid)
SELECT string_agg(line, E'\n' ORDER BY line) FROM (
    SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM members
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure || ' acl=' || coalesce(p.proacl::text, '-')
           || ' comment=' || coalesce(obj_description(p.oid, 'pg_proc'), '-') || E'\n'
           || pg_get_functiondef(p.oid)
      FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
    UNION ALL
    SELECT 'relation ' || c.oid::regclass || ' kind=' || c.relkind::text
           || ' options=' || coalesce(c.reloptions::text, '-') || ' acl=' || coalesce(c.relacl::text, '-')
           || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '-')
           || CASE WHEN c.relkind = 'v' THEN E'\n' || pg_get_viewdef(c.oid) ELSE '' END
      FROM rels c
    UNION ALL
    SELECT 'column ' || a.attrelid::regclass || ' #' || a.attnum || ' ' || a.attname || ' '
           || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
           || ' acl=' || coalesce(a.attacl::text, '-')
           || ' comment=' || coalesce(col_description(a.attrelid, a.attnum), '-')
      FROM rels c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid)
           || ' options=' || coalesce((SELECT reloptions::text FROM pg_class WHERE oid = i.indexrelid), '-')
      FROM rels c JOIN pg_index i ON i.indrelid = c.oid
    UNION ALL
    SELECT 'constraint ' || con.conrelid::regclass || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid)
      FROM rels c JOIN pg_constraint con ON con.conrelid = c.oid
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid)
      FROM rels c JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT 'schema ' || n.nspname || ' acl=' || coalesce(n.nspacl::text, '-')
      FROM pg_namespace n WHERE n.nspname IN ('duroxide', 'duroxide_internal')
    UNION ALL
    SELECT 'dumped ' || coalesce(extconfig::regclass[]::text, '-') || ' where ' || coalesce(extcondition::text, '-')
      FROM pg_extension WHERE extname = 'duroxide'
) AS facts(line)
};

my $sharedir = $node->config_data('--sharedir');
my @released = sort map { /duroxide--([0-9.]+)\.sql$/ ? $1 : () }
  glob("$sharedir/extension/duroxide--*.sql");
my $current = $node->safe_psql('postgres',
    "SELECT default_version FROM pg_available_extensions WHERE name = 'duroxide'");
@released = grep { $_ ne $current } @released;
ok(@released > 0, 'at least one released version is installed: ' . join(', ', @released));

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION duroxide');
my $fresh = $node->safe_psql('fresh', $describe);
like($fresh, qr/function duroxide\.start_orchestration/, 'the description sees the functions');
like($fresh, qr/column duroxide\.instances #1 instance_id text not null/, 'and the columns');

foreach my $version (@released) {
    my $db = 'from_' . ($version =~ s/\./_/gr);
    $node->safe_psql('postgres', "CREATE DATABASE $db");
    $node->safe_psql($db, "CREATE EXTENSION duroxide VERSION '$version'");
    is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'duroxide'"),
        $version, "installed at $version");

    # The workers wait for the update (they must not touch an old schema) ...
    ok($node->poll_query_until($db,
            "SELECT count(*) > 0 AND bool_and(state = 'awaiting UPDATE') FROM duroxide.runtime_status "
          . "WHERE database = current_database()"),
        "workers of a $version database wait for the update");
    # ... and work queued before it is done after it.
    # Registered by a non-superuser administrator who owns the function: 0.2.0 runs a
    # registration from before it as a superuser only once a superuser registers it again.
    $node->safe_psql($db, q{
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'upgrade_admin') THEN
                CREATE ROLE upgrade_admin IN ROLE duroxide_admin;
            END IF;
        END $$;
        CREATE FUNCTION shout(input text) RETURNS text LANGUAGE sql AS $$ SELECT upper(input) $$;
        ALTER FUNCTION shout(text) OWNER TO upgrade_admin;
        SET ROLE upgrade_admin;
        SELECT duroxide.register_sql_activity('Shout', 'shout(text)');
        RESET ROLE;
        SELECT duroxide.register_plugin('duroxide_sample');
        SELECT duroxide.start_orchestration('before-update', 'CallActivity', 'Shout:queued early');
    });
    # Each worker looks at the schema version again after the start was queued (its state is
    # set anew at each look) and goes on waiting.
    my $queued_at = $node->safe_psql($db, 'SELECT clock_timestamp()');
    ok($node->poll_query_until($db,
            "SELECT count(*) > 0 AND bool_and(state = 'awaiting UPDATE' AND state_since > '$queued_at') "
          . "FROM duroxide.runtime_status WHERE database = current_database()"),
        "the workers of the $version database looked again after the start, still waiting");
    is($node->safe_psql($db, "SELECT status FROM duroxide.get_orchestration_status('before-update')"),
        'NotFound', 'nothing runs before the update');

    $node->safe_psql($db, 'ALTER EXTENSION duroxide UPDATE');
    is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'duroxide'"),
        $current, "$version updated to $current");
    is($node->safe_psql($db,
            "SELECT status || ' ' || output FROM duroxide.wait_for_orchestration('before-update', '60 s')"),
        'Completed QUEUED EARLY', 'work queued before the update completes after it');

    my $updated = $node->safe_psql($db, $describe);
    if ($updated eq $fresh) {
        pass("$version + ALTER EXTENSION UPDATE has the schema of a fresh $current install");
    } else {
        my %in_fresh = map { $_ => 1 } split /\n(?=[a-z]+ )/, $fresh;
        my %in_updated = map { $_ => 1 } split /\n(?=[a-z]+ )/, $updated;
        diag("only in fresh: $_") for grep { !$in_updated{$_} } sort keys %in_fresh;
        diag("only in updated: $_") for grep { !$in_fresh{$_} } sort keys %in_updated;
        fail("$version + ALTER EXTENSION UPDATE has the schema of a fresh $current install");
    }
}

# Backup and restore: pg_dump saves the durable state with the database; a restored copy goes on
# where the original was (here: an instance waiting for an event, and one queued).
$node->safe_psql('fresh', q{
    SELECT duroxide.register_plugin('duroxide_sample');
    SELECT duroxide.start_orchestration('waiting', 'WaitForGo', '');
});
ok($node->poll_query_until('fresh',
        "SELECT count(*) = 1 FROM duroxide.history WHERE instance_id = 'waiting' AND event_type = 'ExternalSubscribed'"),
    'an instance waits for its event');
my $dump = "$PostgreSQL::Test::Utils::tmp_check/fresh.dump";
$node->command_ok(['pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('fresh')], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok(['pg_restore', '-d', $node->connstr('restored'), $dump], 'pg_restore');
is($node->safe_psql('restored',
        "SELECT count(*) FROM duroxide.history WHERE instance_id = 'waiting'"),
    $node->safe_psql('fresh', "SELECT count(*) FROM duroxide.history WHERE instance_id = 'waiting'"),
    'the restored database has the history');
$node->safe_psql('restored', "SELECT duroxide.raise_event('waiting', 'Go', 'after restore')");
is($node->safe_psql('restored',
        "SELECT status || ' ' || output FROM duroxide.wait_for_orchestration('waiting', '60 s')"),
    'Completed event:after restore', 'and its instance goes on there');
is($node->safe_psql('restored',
        "SELECT count(*) FROM duroxide.plugins WHERE name = 'duroxide_sample'"), '1',
    'registrations are restored');

$node->stop;
done_testing();
