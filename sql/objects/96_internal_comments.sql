-- Internal helpers of the client and management functions: what each is for, like every
-- other function of the extension (not part of the API; not granted to the roles).
COMMENT ON FUNCTION duroxide._may_access(oid) IS
    'Internal: whether the calling role may reach an instance owned by "owner" (instance isolation).';
COMMENT ON FUNCTION duroxide._calling_role() IS
    'Internal: the role a SECURITY DEFINER function was called by (the session''s current role).';
COMMENT ON FUNCTION duroxide._status_change_count(text) IS
    'Internal: the count of committed changes of an instance (its key''s bucket), read by the waits before they sleep.';
COMMENT ON FUNCTION duroxide._await_status_change(text, bigint, integer) IS
    'Internal: sleeps on the backend''s latch until a commit changes the instance, its change count passes "seen", or "timeout_ms" pass.';
COMMENT ON FUNCTION duroxide._check_wait(text, interval) IS
    'Internal: the argument, isolation level and uncommitted-start checks of the waits.';
COMMENT ON FUNCTION duroxide._kv_live(text) IS
    'Internal: the live view of an instance''s keys (kv_store merged with kv_delta); empty when the caller may not reach it.';
COMMENT ON FUNCTION duroxide._check_kv_arguments(text, text) IS
    'Internal: the argument checks of the key-value client functions.';
COMMENT ON FUNCTION duroxide._client_status(text) IS
    'Internal: the status a client sees for an execution status (ContinuedAsNew reads as Running).';
COMMENT ON FUNCTION duroxide._delete_trees(text[]) IS
    'Internal: deletes the instance trees rooted at "roots" with their queued work and locks; returns the counts.';
COMMENT ON FUNCTION duroxide._prunable(bigint, text, timestamptz, bigint, integer, timestamptz) IS
    'Internal: the rule of prune_executions, whether an execution may be pruned.';
COMMENT ON FUNCTION duroxide._require_admin(text) IS
    'Internal: raises insufficient_privilege unless the calling role has the privileges of duroxide_admin.';
COMMENT ON FUNCTION duroxide._allowed_roles(regrole[]) IS
    'Internal: an activity allow-list as stored (sorted, distinct; NULL or empty is NULL); raises on NULL elements.';
COMMENT ON FUNCTION duroxide._may_call_activity(oid, oid, regrole[]) IS
    'Internal: whether instances owned by "caller" may call an activity registered by "registrant" with allow-list "allowed".';
COMMENT ON FUNCTION duroxide._function_fingerprint(regprocedure) IS
    'Internal: SHA-256 of a function''s owner and definition, recorded at registration and re-checked before each run.';
