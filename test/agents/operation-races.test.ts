import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnFake } from "../helpers/agents.ts";
import { startDaemon, stopAllDaemons } from "../helpers/daemon.ts";
import { processesOfAgent } from "../helpers/processes.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

/** Each of its processes takes half a second to exit once its input is closed. */
const SLOW_EXIT = { env: { FAKE_AGENT_EXIT_DELAY_MS: "500" } };

describe("lifecycle operations on one agent run one at a time", () => {
  test("restart racing DELETE never leaves a process without an agent (10 tries)", async () => {
    const daemon = await startDaemon();
    const agents = await Promise.all(
      Array.from({ length: 10 }, () => spawnFake(daemon, SLOW_EXIT)),
    );
    const outcomes = await Promise.all(
      agents.map(async (agent) => {
        const [restart, removal] = await Promise.all([
          daemon.api(`/agents/${agent.id}/restart`, { method: "POST" }),
          daemon.api(`/agents/${agent.id}`, { method: "DELETE" }),
        ]);
        return { id: agent.id, restart: restart.status, removal: removal.status };
      }),
    );
    for (const outcome of outcomes) {
      // The restart came first (200) or found the agent gone (404); the DELETE always wins.
      expect([200, 404]).toContain(outcome.restart);
      expect(outcome.removal).toBe(200);
      expect((await daemon.api(`/agents/${outcome.id}`)).status).toBe(404);
      expect(processesOfAgent(outcome.id)).toEqual([]);
    }
  });

  test("concurrent DELETEs of one agent: one 200, the rest 404, and no process remains", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon, SLOW_EXIT);
    const statuses = await Promise.all(
      Array.from({ length: 5 }, async () => {
        return (await daemon.api(`/agents/${agent.id}`, { method: "DELETE" })).status;
      }),
    );
    expect(statuses.sort()).toEqual([200, 404, 404, 404, 404]);
    expect(processesOfAgent(agent.id)).toEqual([]);
  });
});
