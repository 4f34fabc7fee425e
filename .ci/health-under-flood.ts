/**
 * CI check (a benchmark, not a unit test: it times things): while one agent writes 1 KiB JSON
 * lines as fast as it can, GET /health must answer with p99 under 50 ms, and the agent's stored
 * events must stay within the retention. Prints the numbers; exits 1 when either fails.
 *
 * Latency on a shared machine is noisy (other processes take the CPU from the daemon and the
 * client alike), so the measurement is made up to three times and the best one counts; the
 * retention must hold in every one. Each attempt also measures a server that does nothing, the
 * same way, so a failure shows how much of the time was the machine's.
 *
 *   bun .ci/health-under-flood.ts
 */

import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { homeArgs } from "../bench/lib/agentd.ts";

const P99_LIMIT_MS = 50;
const REQUESTS = 600;
const RETENTION = 10_000;
const ATTEMPTS = 3;
const root = resolve(import.meta.dir, "..");

let passed = false;
for (let attempt = 1; attempt <= ATTEMPTS && !passed; attempt++) {
  const idle = await idleServerP99();
  console.log(`machine: a server that does nothing answers with p99 ${idle.toFixed(1)} ms`);
  const failures = await measure();
  for (const failure of failures) console.error(`attempt ${attempt}: ${failure}`);
  passed = failures.length === 0;
  if (failures.some((failure) => failure.startsWith("RETENTION"))) break;
}
process.exitCode = passed ? 0 : 1;

/** One daemon, one flooding agent, REQUESTS health checks; what went wrong, if anything. */
async function measure(): Promise<string[]> {
  const home = mkdtempSync(join(tmpdir(), "agentd-flood-bench-"));
  const daemon = Bun.spawn(
    [
      process.execPath,
      "--no-orphans",
      join(root, "src/main.ts"),
      "daemon",
      "--port",
      "0",
      ...homeArgs(home),
      "--event-retention",
      String(RETENTION),
      "--log-level",
      "warn",
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  try {
    const url = await listeningUrl(daemon.stdout);
    const created = await fetch(`${url}/agents`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        command: [process.execPath, join(root, "test/fixtures/fake-agent.ts")],
        cwd: home,
        prompt: "FLOOD",
      }),
    });
    const agent = (await created.json()) as { id: string };
    if (created.status !== 201) throw new Error(`create failed: ${JSON.stringify(agent)}`);
    const db = new Database(join(home, "agentd.db"), { readonly: true });
    const latest = () =>
      db.query<{ s: number }, []>("SELECT max(seq) AS s FROM events").get()?.s ?? 0;
    const rows = () =>
      db
        .query<{ n: number }, [string]>("SELECT count(*) AS n FROM events WHERE agent_id = ?")
        .get(agent.id)?.n ?? 0;
    while (latest() < 2 * RETENTION) await Bun.sleep(50);

    const began = { at: performance.now(), seq: latest() };
    let most = 0;
    const at = await latencies(`${url}/health`, (i) => {
      if (i % 20 === 0) most = Math.max(most, rows());
    });
    const seconds = (performance.now() - began.at) / 1000;
    const events = latest() - began.seq;
    db.close();
    console.log(
      `flood: ${Math.round(events / seconds)} events/s stored; /health over ${REQUESTS} requests: ` +
        `p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, max ${at(1).toFixed(1)} ms; ` +
        `most events kept for the agent: ${most} (retention ${RETENTION})`,
    );
    const failures: string[] = [];
    if (most > RETENTION) {
      failures.push(`RETENTION: the agent had ${most} events stored, over ${RETENTION}`);
    }
    if (events < RETENTION) failures.push(`the flood hardly ran (${events} events)`);
    if (at(0.99) >= P99_LIMIT_MS) {
      failures.push(`/health p99 ${at(0.99).toFixed(1)} ms is not under ${P99_LIMIT_MS} ms`);
    }
    return failures;
  } finally {
    daemon.kill("SIGTERM");
    await daemon.exited;
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * REQUESTS GETs of `url` one after the other, 10 ms apart; the quantiles of their times.
 * `between` runs after each answer.
 */
async function latencies(url: string, between: (i: number) => void = () => {}) {
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const start = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    times.push(performance.now() - start);
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    between(i);
    await Bun.sleep(10);
  }
  times.sort((a, b) => a - b);
  return (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] as number;
}

/** The p99 of a server (in a process of its own, like the daemon) that only says "ok". */
async function idleServerP99(): Promise<number> {
  const server = Bun.spawn(
    [
      process.execPath,
      "-e",
      'const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok") }); console.log("listening on http://127.0.0.1:" + s.port);',
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  try {
    return (await latencies(await listeningUrl(server.stdout)))(0.99);
  } finally {
    server.kill();
    await server.exited;
  }
}

async function listeningUrl(stdout: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stdout) {
    text += new TextDecoder().decode(chunk);
    const url = /listening on (\S+)/.exec(text)?.[1];
    if (url) return url;
  }
  throw new Error(`the daemon exited before listening: ${text}`);
}
