import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import {
  type AgentJson,
  ask,
  FAKE_AGENT_COMMAND,
  FAKE_TURN_COST,
  getAgent,
} from "../../helpers/agents.ts";
import { daemonDatabase, daemonPaths, startDaemon, stopAllDaemons } from "../../helpers/daemon.ts";
import { describeWithSystemd, startUserManager } from "../../helpers/systemd.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

const manager = await startUserManager();

afterAll(async () => {
  await stopAllDaemons();
  await manager?.stop();
});

describeWithSystemd("a persistent agent's events file", manager, (systemd) => {
  test("takes no more disk than what is not yet stored, and every line counts once, also across a start that empties it", async () => {
    const daemon = await startDaemon({ env: systemd.env, args: ["--event-retention", "100000"] });
    const created = await daemon.api<AgentJson>("/agents", {
      method: "POST",
      body: JSON.stringify({
        name: "chatty",
        mode: "persistent",
        command: FAKE_AGENT_COMMAND,
        cwd: daemon.home,
      }),
    });
    expect(created.status).toBe(201);
    expect((await ask(daemon, "chatty", "FLOOD:8000")).status).toBe("completed");
    const file = join(daemonPaths(daemon.home).stateDir, "chatty.events.jsonl");
    const { size, blocks } = statSync(file);
    expect(size).toBeGreaterThan(8_000_000);
    expect(blocks * 512).toBeLessThan(2 * 1024 * 1024);

    const toolEvents = () => {
      const db = daemonDatabase(daemon);
      try {
        return db
          .query<{ n: number }, []>(
            "SELECT count(*) AS n FROM events WHERE agent_id = 'chatty' AND type = 'tool'",
          )
          .get()?.n;
      } finally {
        db.close();
      }
    };
    expect(toolEvents()).toBe(8000);

    expect((await daemon.api("/agents/chatty/stop", { method: "POST" })).status).toBe(200);
    expect((await daemon.api("/agents/chatty/start", { method: "POST" })).status).toBe(200);
    expect(statSync(file).size).toBeLessThan(1000);
    expect((await ask(daemon, "chatty", "FLOOD:10")).status).toBe("completed");
    expect(toolEvents()).toBe(8010);
    expect(await getAgent(daemon, "chatty")).toMatchObject({
      turns: 2,
      cost_micro_usd: 2 * FAKE_TURN_COST,
    });
    await daemon.api("/agents/chatty", { method: "DELETE" });
  });
});
