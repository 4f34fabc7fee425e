import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../src/store/db.ts";
import { ask, getAgent, spawnFake } from "./helpers/agents.ts";
import { daemonPaths, startDaemon, stopAllDaemons, type TestDaemon } from "./helpers/daemon.ts";
import { fillFilesystem, IS_ROOT, smallFilesystem, unmountAll } from "./helpers/faults.ts";
import { tempDir } from "./helpers/tmp.ts";
import { waitFor } from "./helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);
afterAll(unmountAll);

interface Health {
  ok: boolean;
  warnings: string[];
}

const health = async (daemon: TestDaemon) => (await daemon.api<Health>("/health")).body;

function logEvents(dbPath: string, agentId: string): string[] {
  const db = openDatabase(dbPath);
  try {
    return db
      .query<{ data: string }, [string]>(
        "SELECT data FROM events WHERE agent_id = ? AND type = 'log' ORDER BY seq",
      )
      .all(agentId)
      .map((row) => (JSON.parse(row.data) as { message: string }).message);
  } finally {
    db.close();
  }
}

describe("storage that cannot be written", () => {
  test.skipIf(!IS_ROOT)(
    "a full disk under the database: /health names it, writes answer 503, the daemon and its agents carry on, and it recovers by itself [needs root: a small tmpfs]",
    async () => {
      const dbDir = smallFilesystem(16 * 1024 * 1024);
      const dbPath = join(dbDir, "agentd.db");
      const daemon = await startDaemon({ args: ["--db", dbPath] });
      const agent = await spawnFake(daemon);
      expect((await ask(daemon, agent.id, "before")).status).toBe("completed");

      // Sent while there is room; answered (2000 tool calls) once there is none.
      const sent = await daemon.api(`/agents/${agent.id}/send`, {
        method: "POST",
        body: JSON.stringify({ message: "PAUSE:300 FLOOD:2000" }),
      });
      expect(sent.status).toBe(200);
      const full = fillFilesystem(dbDir);
      const failing = await waitFor("/health to say the database cannot be written", async () => {
        const now = await health(daemon);
        return !now.ok && now;
      });
      expect(failing.warnings.join("\n")).toContain(`cannot write the database ${dbPath}`);
      const refused = await daemon.api<{ error: { code: string; message: string } }>(
        `/agents/${agent.id}/send`,
        { method: "POST", body: JSON.stringify({ message: "x".repeat(200_000) }) },
      );
      expect(refused.status).toBe(503);
      expect(refused.body.error.message).toContain(dbPath);

      full.free();
      await waitFor("the database to be writable again", async () => (await health(daemon)).ok);
      expect((await ask(daemon, agent.id, "after")).response).toBe("echo: after");
      // The same process all along. (The turn answered while nothing could be stored stays
      // open: its answer is among what was lost, and the notice says so.)
      expect((await getAgent(daemon, agent.id)).pid).toBe(agent.pid);
      const notices = logEvents(dbPath, agent.id);
      expect(notices.some((message) => /were not recorded/.test(message))).toBe(true);
      const db = openDatabase(dbPath);
      expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
      db.close();
    },
  );

  test("the log directory becoming unwritable mid-run: the agent runs on, the error is an event and a /health warning counting lost lines, and it clears once the log can be written", async () => {
    const logRoot = IS_ROOT ? smallFilesystem(4 * 1024 * 1024) : join(tempDir(), "logs");
    const daemon = await startDaemon({
      // Without root, the directory's permissions stop the next rotation.
      args: ["--log-root", logRoot, ...(IS_ROOT ? [] : ["--log-max-bytes", "4096"])],
    });
    const agent = await spawnFake(daemon);
    expect((await ask(daemon, agent.id, "before")).status).toBe("completed");
    const agentDir = join(logRoot, agent.id);
    const full = IS_ROOT ? fillFilesystem(logRoot) : null;
    if (!IS_ROOT) chmodSync(agentDir, 0o500);

    expect((await ask(daemon, agent.id, "FLOOD:50 while the log is stuck")).status).toBe(
      "completed",
    );
    const now = await health(daemon);
    expect(now.ok).toBe(false);
    const logPath = join(agentDir, "agent.log");
    expect(now.warnings.join("\n")).toMatch(
      new RegExp(`cannot write the agent log ${logPath}: .* \\((\\d+) line\\(s\\) lost so far\\)`),
    );
    expect(
      logEvents(daemonPaths(daemon.home).db, agent.id).some((m) =>
        m.startsWith(`cannot write its log ${logPath}`),
      ),
    ).toBe(true);

    if (full) full.free();
    else chmodSync(agentDir, 0o700);
    expect((await ask(daemon, agent.id, "after")).status).toBe("completed");
    expect((await health(daemon)).ok).toBe(true);
    expect(
      logEvents(daemonPaths(daemon.home).db, agent.id).some((m) =>
        /can be written again; \d+ line\(s\) were lost/.test(m),
      ),
    ).toBe(true);
    const text = readFileSync(logPath, "utf8");
    expect(text).toMatch(/\[agentd: \d+ line\(s\) could not be written to this log and are lost/);
    expect(text).toContain("after");
  });
});
