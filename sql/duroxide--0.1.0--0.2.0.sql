-- duroxide upgrade 0.1.0 -> 0.2.0 (ALTER EXTENSION duroxide UPDATE). Whatever the install
-- pieces in sql/install/ gained since 0.1.0, this script does to a 0.1.0 database; the TAP test
-- test/tap/005_upgrade.pl checks that both give the same schema.
\echo Use "ALTER EXTENSION duroxide UPDATE" to load this file. \quit
