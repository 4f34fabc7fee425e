import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { StateLock, StateLockedError } from "../src/state-lock.ts";
import { ask, getAgent, spawnFake } from "./helpers/agents.ts";
import {
  daemonDatabase,
  daemonPaths,
  MAIN,
  startDaemon,
  stopAllDaemons,
  type TestDaemon,
} from "./helpers/daemon.ts";
import { tempDir } from "./helpers/tmp.ts";
import { processGone, waitFor } from "./helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

/** A second daemon on the first one's state, with these extra arguments; how it ended. */
async function secondDaemon(first: TestDaemon, args: string[]) {
  const paths = daemonPaths(first.home);
  const proc = Bun.spawn(
    [
      process.execPath,
      "--no-orphans",
      MAIN,
      "daemon",
      "--db",
      paths.db,
      "--log-root",
      paths.logRoot,
      "--workspace",
      paths.workspace,
      "--state-dir",
      paths.stateDir,
      ...args,
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, AGENTD_TOKEN: "" } },
  );
  const code = await proc.exited;
  return { code, stdout: await proc.stdout.text(), stderr: await proc.stderr.text() };
}

/** Everything the database says about its agents, and how many events it holds. */
function stateOf(daemon: TestDaemon) {
  const db = daemonDatabase(daemon);
  try {
    return {
      agents: db.query("SELECT id, status, pid, updated_at FROM agents ORDER BY id").all(),
      events: db.query("SELECT count(*) AS n, max(seq) AS last FROM events").get(),
    };
  } finally {
    db.close();
  }
}

describe("one daemon per state", () => {
  test("a second daemon on the same database exits at once naming the first one's pid, and the first one's agents are untouched", async () => {
    const first = await startDaemon();
    const idle = await spawnFake(first);
    const busy = await spawnFake(first);
    const turn = first.api<{ status: string }>(`/agents/${busy.id}/send`, {
      method: "POST",
      body: JSON.stringify({ message: "SLOW:60000", turn_id: "long" }),
    });
    expect((await turn).status).toBe(200);
    // Quiet from here on: the busy agent has said all it says before its long answer.
    await waitFor("the busy agent to be thinking", () => {
      const db = daemonDatabase(first);
      try {
        return (
          db
            .query("SELECT 1 FROM events WHERE agent_id = ? AND type = 'inference'")
            .get(busy.id) !== null
        );
      } finally {
        db.close();
      }
    });
    const before = stateOf(first);
    const port = new URL(first.url).port;

    // As the bug report had it: the same defaults, port included (taken by the first), and
    // a free port, where nothing but the lock can stop it.
    for (const args of [
      ["--port", port],
      ["--port", "0"],
    ]) {
      const second = await secondDaemon(first, args);
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain(`another agentd daemon (pid ${first.proc.pid}) is using`);
      expect(second.stderr).toContain(daemonPaths(first.home).db);
      expect(second.stdout).not.toContain("listening on");
      expect(stateOf(first)).toEqual(before);
    }

    for (const agent of [idle, busy]) {
      const now = await getAgent(first, agent.id);
      expect(now.status).toBe(agent.id === busy.id ? "running" : "idle");
      expect(now.pid).toBe(agent.pid);
      expect(processGone(agent.pid as number)).toBe(false);
    }
    expect((await ask(first, idle.id, "still there?")).response).toBe("echo: still there?");
  });

  test("a daemon killed with SIGKILL leaves no stale lock: the next one starts", async () => {
    const first = await startDaemon();
    const lockFile = `${daemonPaths(first.home).db}.lock`;
    expect(readFileSync(lockFile, "utf8").trim()).toBe(String(first.proc.pid));
    expect(statSync(lockFile).mode & 0o777).toBe(0o600);
    await first.stop("SIGKILL");
    const next = await startDaemon({ home: first.home });
    expect((await next.api("/health")).status).toBe(200);
    expect(readFileSync(lockFile, "utf8").trim()).toBe(String(next.proc.pid));
  });

  test("the lock is exclusive between holders and free again once released", () => {
    const dir = tempDir("agentd-lock-");
    const lockPath = `${dir}/state/agentd.db.lock`;
    const held = StateLock.acquire(lockPath, `${dir}/state/agentd.db`);
    let refused: unknown;
    try {
      StateLock.acquire(lockPath, `${dir}/state/agentd.db`);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(StateLockedError);
    expect((refused as StateLockedError).holder).toBe(process.pid);
    held.release();
    StateLock.acquire(lockPath, `${dir}/state/agentd.db`).release();
  });
});
