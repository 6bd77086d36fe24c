#!/usr/bin/env node
// Start the "greeting" workflow, send it a message, wait for its end with LISTEN/NOTIFY (no
// transaction open, so no snapshot held while waiting), then read its status.
//
//   node examples/node/greet.js CONNINFO [INSTANCE]
//   (Debian: apt-get install node-pg; NODE_PATH=/usr/share/nodejs)
'use strict';
const crypto = require('crypto');
const { Client } = require('pg');

async function main() {
  const [conninfo, given] = process.argv.slice(2);
  const instance = given || `greet-${crypto.randomUUID()}`;
  const client = new Client({ connectionString: conninfo });
  await client.connect();

  // Resolves with the first "ended" notification of our instance (registered before LISTEN).
  const ended = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no notification for ${instance} within 60 s`)), 60000);
    client.on('notification', (msg) => {
      const event = JSON.parse(msg.payload);
      if (event.kind === 'ended' && event.instance === instance) {
        clearTimeout(timer);
        resolve(event);
      }
    });
  });

  // Listen first (each query is its own transaction), then start: nothing can be missed.
  await client.query('SELECT duroxide.listen()');
  await client.query("SELECT duroxide.start_workflow($1, 'greeting', $2)",
                     [instance, JSON.stringify({ salutation: 'Hello' })]);
  console.log('started', instance);
  await client.query("SELECT duroxide.enqueue_event($1, 'names', $2)",
                     [instance, JSON.stringify({ name: 'Ada' })]);

  const event = await ended; // idle between notifications: no transaction, no snapshot
  console.log('notified', event.status, 'execution', event.execution,
              'output', event.output, 'large', event.large);

  const { rows } = await client.query(
    'SELECT status, output FROM duroxide.get_orchestration_status($1)', [instance]);
  console.log('status', rows[0].status, 'output', rows[0].output);
  await client.end();
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
