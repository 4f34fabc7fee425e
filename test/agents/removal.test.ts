import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ask, getAgent, spawnFake } from "../helpers/agents.ts";
import { daemonPaths, startDaemon, stopAllDaemons } from "../helpers/daemon.ts";
import { blockRemoval, unmountAll } from "../helpers/faults.ts";
import { processesOfAgent } from "../helpers/processes.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);
afterAll(unmountAll);

test("a DELETE whose log directory cannot be removed keeps the agent (stopped), says what is left, and succeeds once that is fixed", async () => {
  const daemon = await startDaemon();
  const agent = await spawnFake(daemon);
  await ask(daemon, agent.id, "hello");
  const logDir = join(daemonPaths(daemon.home).logRoot, agent.id);
  const blocked = blockRemoval(logDir);

  const refused = await daemon.api<{
    error: { code: string; message: string; details: { left_behind: { path: string }[] } };
  }>(`/agents/${agent.id}`, { method: "DELETE" });
  expect(refused.status).toBe(409);
  expect(refused.body.error.code).toBe("removal_incomplete");
  expect(refused.body.error.message).toContain(logDir);
  expect(refused.body.error.details.left_behind.map((item) => item.path)).toEqual([logDir]);
  // Stopped, and still there to be deleted again.
  expect(await getAgent(daemon, agent.id)).toMatchObject({ status: "stopped", pid: null });
  expect(processesOfAgent(agent.id)).toEqual([]);
  expect((await daemon.api(`/agents/${agent.id}/turns`)).status).toBe(200);

  blocked.release();
  expect((await daemon.api(`/agents/${agent.id}`, { method: "DELETE" })).status).toBe(200);
  expect((await daemon.api(`/agents/${agent.id}`)).status).toBe(404);
  expect(existsSync(logDir)).toBe(false);
});
