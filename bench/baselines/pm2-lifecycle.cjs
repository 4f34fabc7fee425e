"use strict";
/**
 * The process-manager baseline: pm2 7 through its programmatic API (a client of its own daemon,
 * as agentd's clients are of agentd) starting, stopping and deleting processes one after
 * another. Run with node and PM2_HOME set to a private directory. Speaks the bench's JSON lines:
 * request {cycle: n, argv}, answer {ms}. When stdin closes it kills its pm2 daemon and exits.
 */
const readline = require("node:readline");
const pm2 = require("pm2");

const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const call = (method, ...args) =>
  new Promise((resolve, reject) =>
    pm2[method](...args, (error, result) => (error ? reject(error) : resolve(result))),
  );

async function cycle(count, argv) {
  const names = Array.from({ length: count }, (_, i) => `bench-${i}`);
  const start = performance.now();
  for (const name of names) {
    await call("start", {
      name,
      script: argv[0],
      args: argv.slice(1),
      interpreter: "none",
      autorestart: false,
    });
  }
  for (const name of names) await call("stop", name);
  for (const name of names) await call("delete", name);
  return performance.now() - start;
}

async function main() {
  await call("connect");
  say({ ready: true });
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    try {
      const request = JSON.parse(line);
      say({ ms: await cycle(request.cycle, request.argv) });
    } catch (error) {
      say({ error: String(error?.message ?? error) });
    }
  }
  await call("killDaemon");
  pm2.disconnect();
  // pm2's client keeps handles open after it disconnects.
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`pm2-lifecycle: ${error?.stack ?? error}\n`);
  process.exit(1);
});
