import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { WAL_LIMIT_BYTES } from "../../src/store/checkpointer.ts";
import { spawnFake } from "../helpers/agents.ts";
import {
  daemonDatabase,
  daemonPaths,
  startDaemon,
  stopAllDaemons,
  type TestDaemon,
} from "../helpers/daemon.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

const RETENTION = 1000;
const LOG_MAX = 1024 * 1024;
const LOG_KEEP = 2;

/** The agent's stored events, and the newest seq of all (read beside the running daemon). */
function stored(daemon: TestDaemon, agentId: string): { rows: number; latest: number } {
  const db = daemonDatabase(daemon);
  try {
    const rows = db
      .query<{ n: number }, [string]>("SELECT count(*) AS n FROM events WHERE agent_id = ?")
      .get(agentId)?.n as number;
    const latest = db.query<{ s: number }, []>("SELECT max(seq) AS s FROM events").get()
      ?.s as number;
    return { rows, latest };
  } finally {
    db.close();
  }
}

function bytesUnder(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

test("an agent writing 1 KiB lines as fast as it can: the API answers throughout, its events stay within the retention, its log within its rotation", async () => {
  const daemon = await startDaemon({
    args: [
      "--event-retention",
      String(RETENTION),
      "--log-max-bytes",
      String(LOG_MAX),
      "--log-keep",
      String(LOG_KEEP),
    ],
  });
  const agent = await spawnFake(daemon);
  const sent = await daemon.api(`/agents/${agent.id}/send`, {
    method: "POST",
    body: JSON.stringify({ message: "FLOOD" }),
  });
  expect(sent.status).toBe(200);
  await waitFor(
    "the flood to pass the retention",
    () => stored(daemon, agent.id).latest > 5 * RETENTION,
  );

  const before = stored(daemon, agent.id).latest;
  let most = 0;
  for (let i = 0; i < 100; i++) {
    const health = await daemon.api<{ ok: boolean }>("/health");
    expect(health.status).toBe(200);
    expect((await daemon.api(`/agents/${agent.id}`)).status).toBe(200);
    most = Math.max(most, stored(daemon, agent.id).rows);
  }
  const after = stored(daemon, agent.id).latest;
  // The flood went on all along: the API was answered between its batches, not after it.
  expect(after - before).toBeGreaterThan(RETENTION);
  // Never more than the retention committed, whatever the rate.
  expect(most).toBeLessThanOrEqual(RETENTION);
  const stopped = await daemon.api<{ status: string }>(`/agents/${agent.id}/stop`, {
    method: "POST",
  });
  expect(stopped.body.status).toBe("stopped");
  // The log was rotated: the current file and LOG_KEEP rotated ones, none past the limit.
  const logDir = join(daemonPaths(daemon.home).logRoot, agent.id);
  expect(readdirSync(logDir).sort()).toEqual(["agent.log", "agent.log.1", "agent.log.2"]);
  expect(bytesUnder(logDir)).toBeLessThanOrEqual((LOG_KEEP + 1) * LOG_MAX);
}, 60_000);

/** The database's WAL file, in bytes (0 when absent). */
function walBytes(daemon: TestDaemon): number {
  return statSync(`${daemonPaths(daemon.home).db}-wal`, { throwIfNoEntry: false })?.size ?? 0;
}

test("a flood of hundreds of megabytes keeps the database's WAL within tens of megabytes, and it shrinks once the flood stops", async () => {
  const MiB = 1024 * 1024;
  // About 1.5 KiB of WAL per 1 KiB event: without the worker's RESTART the WAL held all of it.
  const EVENTS = 300_000;
  const daemon = await startDaemon({ args: ["--event-retention", String(RETENTION)] });
  const agent = await spawnFake(daemon);
  await daemon.api(`/agents/${agent.id}/send`, {
    method: "POST",
    body: JSON.stringify({ message: "FLOOD" }),
  });
  let most = 0;
  await waitFor(
    `${EVENTS} events stored`,
    () => {
      most = Math.max(most, walBytes(daemon));
      return stored(daemon, agent.id).latest > EVENTS;
    },
    90_000,
  );
  expect(most).toBeLessThan(96 * MiB);
  await daemon.api(`/agents/${agent.id}/stop`, { method: "POST" });
  // Past its limit, a WAL no longer written to is emptied.
  await waitFor("the WAL to shrink", () => walBytes(daemon) <= WAL_LIMIT_BYTES);
}, 150_000);
