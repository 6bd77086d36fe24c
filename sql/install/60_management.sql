-- Management: list and inspect instances, executions and trees; delete and prune.
-- Reads are for both roles and honour per-role isolation (duroxide._may_access); deletes and
-- prunes are for duroxide_admin. All are SECURITY DEFINER with a fixed search_path.

CREATE INDEX instances_created ON duroxide.instances (created_at, instance_id);
