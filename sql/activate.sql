-- Last statement of the install script (not of upgrades): start this database's workers
-- when CREATE EXTENSION commits.
SELECT duroxide_internal.activate_database();
