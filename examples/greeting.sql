-- The workflow both client examples start (run it once, as the role the examples connect as):
--   psql "$CONNINFO" -f examples/greeting.sql
-- It waits for a message on its "names" queue (duroxide.enqueue_event) and greets it.
SELECT duroxide.define_workflow('greeting', $wf$
{"kind": "seq", "steps": [
  {"kind": "dequeue", "queue": "names", "timeout": "5 min", "as": "msg"},
  {"kind": "return",
   "value": {"greeting": {"$expr": "$input.salutation + ', ' + $steps.msg.name + '!'"}}}]}
$wf$)
 WHERE NOT EXISTS (SELECT FROM duroxide.workflows WHERE name = 'greeting');
