-- Last piece: every internal function is for duroxide_admin only, whichever piece defined it.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA duroxide_internal FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA duroxide_internal TO duroxide_admin;
