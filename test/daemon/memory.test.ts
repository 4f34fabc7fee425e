import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { ask, spawnFake } from "../helpers/agents.ts";
import { startDaemon, stopAllDaemons } from "../helpers/daemon.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

const MiB = 2 ** 20;
/**
 * The daemon may grow by at most this much while it reads the agent's output, however much
 * there is: lines are held one at a time (4 MiB here, 16 MiB at most), and what is left of
 * them waits for the garbage collector.
 */
const RSS_BOUND_BYTES = 192 * MiB;

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

test("an agent writing 200 MB to stdout in 4 MiB lines does not grow the daemon past a fixed bound", async () => {
  const daemon = await startDaemon({
    args: ["--log-max-bytes", String(16 * MiB), "--log-keep", "1"],
  });
  const agent = await spawnFake(daemon);
  expect((await ask(daemon, agent.id, "warm up")).status).toBe("completed");
  const baseline = rssBytes(daemon.proc.pid);
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssBytes(daemon.proc.pid));
  }, 20);
  try {
    const answer = await ask(daemon, agent.id, "SPEW:200:4096", { timeout_ms: 120_000 });
    expect(answer.status).toBe("completed");
  } finally {
    clearInterval(sampler);
  }
  console.log(
    `daemon RSS: ${Math.round(baseline / MiB)} MiB at rest, at most ${Math.round(peak / MiB)} MiB while reading 200 MB`,
  );
  expect(peak - baseline).toBeLessThan(RSS_BOUND_BYTES);
}, 180_000);
