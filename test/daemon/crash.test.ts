import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { openDatabase } from "../../src/store/db.ts";
import { listDeliveries } from "../../src/store/webhooks.ts";
import { startWebhookReceiver } from "../fixtures/webhook-receiver.ts";
import { type AgentJson, FAKE_AGENT_COMMAND, getAgent } from "../helpers/agents.ts";
import {
  daemonPaths,
  MAIN,
  startDaemon,
  stopAllDaemons,
  type TestDaemon,
} from "../helpers/daemon.ts";
import { killAtEnd, killStrays, processesOfAgent } from "../helpers/processes.ts";
import { describeWithSystemd, startUserManager } from "../helpers/systemd.ts";
import { tempDir } from "../helpers/tmp.ts";
import { processGone, waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

const manager = await startUserManager();
/** Refuses every delivery until it is told to take them. */
let accepting = false;
const receiver = startWebhookReceiver({ reply: () => (accepting ? 200 : 503) });

afterAll(killStrays);
afterAll(async () => {
  await stopAllDaemons();
  await receiver.stop();
  await manager?.stop();
});

const RUNS = 10;
const PERSISTENT = ["keeper-1", "keeper-2"];
/** From source without --no-orphans: the runs outlive a daemon killed with SIGKILL. */
const WITH_ORPHANS = [process.execPath, MAIN];

interface Acked {
  agent: string;
  turn: string;
  message: string;
}

async function send(daemon: TestDaemon, agent: string, message: string, acked: Acked[]) {
  const res = await daemon.api<{ turn_id: string }>(`/agents/${agent}/send`, {
    method: "POST",
    body: JSON.stringify({ message }),
  });
  expect(res.status).toBe(200);
  acked.push({ agent, turn: res.body.turn_id, message });
  return res.body.turn_id;
}

describeWithSystemd("a daemon killed with SIGKILL mid-turn", manager, (systemd) => {
  test("restarted: the database is intact, lost runs say why and have no process, persistent agents are re-attached, every acknowledged message is stored, pending webhooks are sent", async () => {
    const home = tempDir("agentd-crash-");
    const options = {
      home,
      command: WITH_ORPHANS,
      env: { ...systemd.env, AGENTD_WEBHOOK_RETRY_MS: "100" },
    };
    const first = await startDaemon(options);
    const acked: Acked[] = [];
    const runs: AgentJson[] = [];
    for (let i = 0; i < RUNS; i++) {
      const created = await first.api<AgentJson>("/agents", {
        method: "POST",
        body: JSON.stringify({ command: FAKE_AGENT_COMMAND, cwd: home, webhook: receiver.url }),
      });
      expect(created.status).toBe(201);
      runs.push(created.body);
      killAtEnd(created.body.pid as number);
    }
    for (const name of PERSISTENT) {
      const created = await first.api("/agents", {
        method: "POST",
        body: JSON.stringify({
          name,
          mode: "persistent",
          command: FAKE_AGENT_COMMAND,
          cwd: home,
          webhook: receiver.url,
        }),
      });
      expect(created.status).toBe(201);
    }
    const ids = [...runs.map((run) => run.id), ...PERSISTENT];
    // A finished turn each (its webhook refused, so pending), then one mid-turn at the crash.
    for (const id of ids) await send(first, id, `quick one for ${id}`, acked);
    await waitFor("every quick turn to be answered", async () => {
      for (const { agent, turn } of acked) {
        const res = await first.api<{ status: string }>(`/agents/${agent}/turns/${turn}`);
        if (res.body.status !== "completed") return false;
      }
      return true;
    });
    const slow = new Map<string, string>();
    for (const id of ids)
      slow.set(id, await send(first, id, `SLOW:4000 slow one for ${id}`, acked));
    await waitFor("every agent to be mid-turn", async () => {
      for (const id of ids) if ((await getAgent(first, id)).status !== "running") return false;
      return true;
    });
    await waitFor(
      "the webhooks to have been refused at least once",
      () => receiver.received.length >= ids.length,
    );

    await first.stop("SIGKILL");
    // What the dead daemon owed: read before anything else opens the database.
    const db = openDatabase(daemonPaths(home).db);
    expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    const owed = ids.flatMap((id) => listDeliveries(db, id)).filter((d) => d.status === "pending");
    const pids = new Map(
      PERSISTENT.map((name) => [
        name,
        db.query<{ pid: number }, [string]>("SELECT pid FROM agents WHERE id = ?").get(name)?.pid,
      ]),
    );
    db.close();
    expect(owed.length).toBeGreaterThanOrEqual(ids.length);
    // The runs outlived it: nothing took them down.
    for (const run of runs) expect(processGone(run.pid as number)).toBe(false);

    accepting = true;
    const acceptedFrom = receiver.received.length;
    const second = await startDaemon(options);
    for (const run of runs) {
      const lost = await getAgent(second, run.id);
      expect(lost).toMatchObject({ status: "lost", pid: null });
      expect(lost.error).toContain("daemon stopped while this agent was running");
      await waitFor(`run ${run.id} to be gone`, () => processGone(run.pid as number));
      expect(processesOfAgent(run.id)).toEqual([]);
      const turn = await second.api<{ status: string }>(
        `/agents/${run.id}/turns/${slow.get(run.id)}`,
      );
      expect(turn.body.status).toBe("error");
    }
    for (const name of PERSISTENT) {
      const turn = await waitFor(`${name}'s slow turn to be answered`, async () => {
        const res = await second.api<{ status: string; response: string }>(
          `/agents/${name}/turns/${slow.get(name)}`,
        );
        return res.body.status === "completed" && res.body;
      });
      expect(turn.response).toBe(`echo: SLOW:4000 slow one for ${name}`);
      const agent = await waitFor(`${name} to be idle`, async () => {
        const now = await getAgent(second, name);
        return now.status === "idle" && now;
      });
      // Re-attached: the same process, never restarted.
      expect(agent.pid).toBe(pids.get(name) as number);
      expect(agent.turns).toBe(2);
    }
    for (const { agent, turn, message } of acked) {
      const stored = await second.api<{ input: string }>(`/agents/${agent}/turns/${turn}`);
      expect(stored.status).toBe(200);
      expect(stored.body.input).toBe(message);
      const conversation = await second.api<{ role: string; content: string }[]>(
        `/agents/${agent}/messages`,
      );
      expect(conversation.body).toContainEqual(
        expect.objectContaining({ role: "user", content: message }),
      );
    }
    await waitFor(
      "every delivery owed to be sent",
      () => {
        const arrived = new Set(
          receiver.received.slice(acceptedFrom).map((hook) => hook.body.delivery_id),
        );
        return owed.every((delivery) => arrived.has(delivery.id));
      },
      30_000,
    );
    for (const name of PERSISTENT) {
      expect((await second.api(`/agents/${name}`, { method: "DELETE" })).status).toBe(200);
    }
  }, 120_000);
});
