-- Version --------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION duroxide.version() RETURNS text
    LANGUAGE c STRICT STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'duroxide_version';
COMMENT ON FUNCTION duroxide.version() IS 'Version of the loaded duroxide library.';
REVOKE ALL ON FUNCTION duroxide.version() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duroxide.version() TO duroxide_admin, duroxide_user;
