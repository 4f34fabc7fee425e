import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentView } from "../../src/api/schemas.ts";
import { insertAgent } from "../../src/store/agents.ts";
import { openDatabase } from "../../src/store/db.ts";
import { getWorkspace, insertWorkspace } from "../../src/store/workspaces.ts";
import { measureSize } from "../../src/workspace/size.ts";
import { WorkspaceSizer } from "../../src/workspace/sizer.ts";
import { ask, FAKE_AGENT_COMMAND } from "../helpers/agents.ts";
import { REPO_ROOT, startDaemon, stopAllDaemons } from "../helpers/daemon.ts";
import { sampleAgent } from "../helpers/store.ts";
import { tempDir } from "../helpers/tmp.ts";
import { processGone, waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

/** A `du` that stops itself until told to go on: a measurement the test holds in flight. */
const HELD_DU_DIR = join(REPO_ROOT, "test/fixtures/held-du");
const FILES = 10_000;
const FILE_BYTES = 100;

/** Children of `parent` named `du` that are stopped (state T). */
function heldMeasurements(parent: number): number[] {
  const held: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // It ended while we looked.
    }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (comm === "du" && state === "T" && Number(ppid) === parent) held.push(Number(entry));
  }
  return held;
}

function fillTree(dir: string): void {
  const content = "x".repeat(FILE_BYTES);
  for (let d = 0; d < 100; d++) {
    const sub = join(dir, `d${d}`);
    mkdirSync(sub);
    for (let f = 0; f < FILES / 100; f++) writeFileSync(join(sub, `f${f}`), content);
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

describe("measuring a workspace", () => {
  test("an agent asked for again and again is measured once now and once after a rest, with everything written", async () => {
    const db = openDatabase(join(tempDir(), "agentd.db"));
    const path = tempDir();
    insertAgent(db, { ...sampleAgent("busy"), cwd: path });
    insertWorkspace(db, {
      agent_id: "busy",
      kind: "dir",
      path,
      repo: null,
      branch: null,
      base: null,
    });
    const measured: string[] = [];
    let measuring: Promise<unknown> = Promise.resolve();
    const sizer = new WorkspaceSizer(db, 60_000, (tree, options) => {
      measured.push(tree);
      const size = measureSize(tree, options);
      measuring = size;
      return size;
    });
    try {
      sizer.request("busy");
      await sizer.idle();
      const first = getWorkspace(db, "busy")?.size_bytes ?? 0;
      // A turn a millisecond, each asking once the last measurement asked for would be over.
      for (let i = 0; i < 20; i++) {
        writeFileSync(join(path, `turn-${i}`), Buffer.alloc(10_000, 1));
        sizer.request("busy");
        await measuring;
      }
      expect(measured).toEqual([path]);
      await sizer.idle();
      expect(measured).toEqual([path, path]);
      expect(getWorkspace(db, "busy")?.size_bytes).toBeGreaterThanOrEqual(first + 20 * 10_000);
    } finally {
      await sizer.close();
      db.close();
    }
  });

  test("a 10 000-file tree under measurement does not delay the agent's events", async () => {
    const daemon = await startDaemon({
      env: {
        PATH: `${HELD_DU_DIR}:${process.env.PATH}`,
        AGENTD_TEST_REAL_DU: Bun.which("du") ?? "/usr/bin/du",
      },
    });
    let held: number[] = [];
    try {
      const created = await daemon.api<AgentView>("/agents", {
        method: "POST",
        body: JSON.stringify({ command: FAKE_AGENT_COMMAND }),
      });
      expect(created.status).toBe(201);
      const agent = created.body;
      fillTree(agent.cwd);

      // The first turn's end starts a measurement, which holds itself before walking the tree.
      await ask(daemon, agent.id, "first");
      held = await waitFor("the measurement to start", () => {
        const found = heldMeasurements(daemon.proc.pid);
        return found.length > 0 ? found : undefined;
      });

      // While it is under way, turns are taken and recorded: nothing waits for the size.
      const whileHeld: number[] = [];
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        expect(await ask(daemon, agent.id, `turn ${i}`)).toMatchObject({ status: "completed" });
        whileHeld.push(performance.now() - started);
      }
      const during = await daemon.api<AgentView>(`/agents/${agent.id}`);
      expect(during.body).toMatchObject({ turns: 21, status: "idle" });
      expect(during.body.workspace?.size_bytes).toBeNull();
      expect(heldMeasurements(daemon.proc.pid)).toEqual(held);

      // Let it walk the tree, and keep the agent busy while it does.
      for (const pid of held) process.kill(pid, "SIGCONT");
      const whileWalking: number[] = [];
      let measured: number | null = null;
      while (measured === null) {
        const started = performance.now();
        await ask(daemon, agent.id, "busy");
        whileWalking.push(performance.now() - started);
        const { body } = await daemon.api<AgentView>(`/agents/${agent.id}`);
        measured = body.workspace?.size_bytes ?? null;
      }
      expect(measured).toBeGreaterThanOrEqual(FILES * FILE_BYTES);
      console.log(
        `turn round trips (prompt to recorded answer) during a measurement of ${FILES} files: ` +
          `held ${whileHeld.length} turns, p50 ${percentile(whileHeld, 50).toFixed(1)} ms, max ${Math.max(...whileHeld).toFixed(1)} ms; ` +
          `walking ${whileWalking.length} turns, p50 ${percentile(whileWalking, 50).toFixed(1)} ms, max ${Math.max(...whileWalking).toFixed(1)} ms`,
      );
    } finally {
      // Later turns asked for more measurements, held again: a graceful stop kills them.
      const stillHeld = heldMeasurements(daemon.proc.pid);
      const code = await daemon.stop("SIGTERM");
      const survivors = stillHeld.filter((pid) => !processGone(pid));
      for (const pid of survivors) process.kill(pid, "SIGKILL");
      expect(code).toBe(0);
      expect(survivors).toEqual([]);
    }
  });
});
