#!/usr/bin/env python3
"""Start the "greeting" workflow, send it a message, wait for its end with LISTEN/NOTIFY
(no transaction open, so no snapshot held while waiting), then read its status.

    python3 examples/python/greet.py CONNINFO [INSTANCE]     (Debian: apt-get install python3-psycopg)
"""
import json
import select
import sys
import time
import uuid

import psycopg

conninfo = sys.argv[1]
instance = sys.argv[2] if len(sys.argv) > 2 else f"greet-{uuid.uuid4()}"

with psycopg.connect(conninfo, autocommit=True) as conn:
    heard = []  # notifications psycopg reads while it runs a statement
    conn.add_notify_handler(lambda n: heard.append(n.payload))
    # Listen first (it takes effect at once in autocommit), then start: nothing can be missed.
    conn.execute("SELECT duroxide.listen()")
    conn.execute("SELECT duroxide.start_workflow(%s, 'greeting', %s)",
                 (instance, json.dumps({"salutation": "Hello"})))
    print("started", instance)
    conn.execute("SELECT duroxide.enqueue_event(%s, 'names', %s)",
                 (instance, json.dumps({"name": "Ada"})))

    deadline = time.monotonic() + 60
    ended = None
    while ended is None:
        while heard:
            event = json.loads(heard.pop(0))
            if event["kind"] == "ended" and event["instance"] == instance:
                ended = event
                break
        if ended is not None:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            sys.exit(f"no notification for {instance} within 60 s")
        select.select([conn.fileno()], [], [], remaining)  # idle: no transaction, no snapshot
        conn.pgconn.consume_input()
        while (n := conn.pgconn.notifies()) is not None:
            heard.append(n.extra.decode())
    print("notified", ended["status"], "execution", ended["execution"],
          "output", ended["output"], "large", ended["large"])

    status, output = conn.execute(
        "SELECT status, output FROM duroxide.get_orchestration_status(%s)", (instance,)).fetchone()
    print("status", status, "output", output)
