-- duroxide upgrade 0.1.0 -> 0.2.0, the part after sql/objects (sql/README.md): data changes
-- that need a function of the new version.

-- The fingerprint of each SQL activity's function, as a registration records it; a function
-- dropped since gets '' (its activity fails until it is registered again).
UPDATE duroxide.sql_activities a
   SET definition_hash = CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_proc p WHERE p.oid = a.function_oid)
                              THEN duroxide._function_fingerprint(a.function_oid) ELSE '' END;
ALTER TABLE duroxide.sql_activities ALTER COLUMN definition_hash SET NOT NULL;
