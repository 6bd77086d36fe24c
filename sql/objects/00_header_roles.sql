-- Objects, part 00 (sql/README.md: every function, view, trigger, comment and grant lives once in
-- sql/objects/, CREATE OR REPLACE, and the Makefile appends these files to both the install and
-- the upgrade script). The schemas' privileges: PUBLIC gets nothing.
REVOKE ALL ON SCHEMA duroxide FROM PUBLIC;
GRANT USAGE ON SCHEMA duroxide TO duroxide_admin, duroxide_user;
REVOKE ALL ON SCHEMA duroxide_internal FROM PUBLIC;
GRANT USAGE ON SCHEMA duroxide_internal TO duroxide_admin;
COMMENT ON SCHEMA duroxide_internal IS
    'duroxide internals; not a stable API (in test databases the test-only extension duroxide_test '
    'adds its store probes and self-tests here)';
