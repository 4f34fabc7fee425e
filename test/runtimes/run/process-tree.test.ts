import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  AGENT_ID_VARIABLE,
  agentProcesses,
  killAll,
} from "../../../src/runtimes/run/process-tree.ts";
import { type AgentJson, ask, spawnFake, waitForStatus } from "../../helpers/agents.ts";
import { startDaemon, stopAllDaemons } from "../../helpers/daemon.ts";
import { killAtEnd, killStrays, processesOfAgent } from "../../helpers/processes.ts";
import { processGone, waitFor } from "../../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);
afterAll(killStrays);

/** A grace period no test could wait out: a stop that waited for it would time the test out. */
const FOREVER_MS = 3_600_000;

/** The fake agent leaves a double-forked, setsid, SIGTERM-ignoring process holding its stdout. */
async function escapee(daemon: Parameters<typeof ask>[0], agentId: string): Promise<number> {
  const answer = await ask(daemon, agentId, "ESCAPE");
  const pid = killAtEnd(Number(/escaped (\d+)/.exec(answer.response ?? "")?.[1]));
  expect(processGone(pid)).toBe(false);
  return pid;
}

describe("an agent's processes, wherever they went", () => {
  test("a process that left the agent's group and session and lost its parent is still found by the agent's id", async () => {
    const agentId = `tree-${process.pid}`;
    const shell = Bun.spawn(["sh", "-c", "setsid sleep 1000 >/dev/null 2>&1 & echo $!"], {
      env: { ...process.env, [AGENT_ID_VARIABLE]: agentId },
      stdout: "pipe",
      stderr: "ignore",
    });
    const pid = killAtEnd(Number((await new Response(shell.stdout).text()).trim()));
    await shell.exited;
    const found = agentProcesses(agentId, null);
    expect(found.map((info) => info.pid)).toEqual([pid]);
    expect(agentProcesses(`${agentId}-other`, null)).toEqual([]);
    expect(await killAll(found, 5000)).toBe(true);
    // Its parent is init now (this test is no subreaper), which collects it in its own time.
    await waitFor("the process to be gone", () => processGone(pid));
  });

  test("everything in the group the agent's process leads belongs to it, even without its id", async () => {
    const leader = Bun.spawn(["sh", "-c", "sleep 1000 & sleep 1000 & wait"], {
      detached: true,
      stdio: ["ignore", "ignore", "ignore"],
    });
    killAtEnd(leader.pid);
    const found = await waitFor("the leader and its two children", () => {
      const all = agentProcesses("no-such-agent", leader.pid);
      return all.length === 3 && all;
    });
    for (const info of found) killAtEnd(info.pid);
    // The leader is this test's own child, for Bun to collect: killed, not waited for here.
    leader.kill("SIGKILL");
    const children = found.filter((info) => info.pid !== leader.pid);
    expect(await killAll(children, 5000)).toBe(true);
    await leader.exited;
    for (const info of children) {
      await waitFor(`${info.pid} to be gone`, () => processGone(info.pid));
    }
  });
});

describe("a double-forked, setsid grandchild holding stdout does not escape", () => {
  test("stop kills it, without waiting out the grace period", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const pid = await escapee(daemon, agent.id);
    const stopped = await daemon.api<AgentJson>(`/agents/${agent.id}/stop?grace_ms=${FOREVER_MS}`, {
      method: "POST",
    });
    expect(stopped.body.status).toBe("stopped");
    expect(processGone(pid)).toBe(true);
    expect(processesOfAgent(agent.id)).toEqual([]);
  });

  test("DELETE kills it", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const pid = await escapee(daemon, agent.id);
    expect((await daemon.api(`/agents/${agent.id}`, { method: "DELETE" })).status).toBe(200);
    expect(processGone(pid)).toBe(true);
    expect(processesOfAgent(agent.id)).toEqual([]);
  });

  test("it goes when the agent exits on its own", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const pid = await escapee(daemon, agent.id);
    await ask(daemon, agent.id, "EXIT0");
    await waitForStatus(daemon, agent.id, "completed");
    expect(processGone(pid)).toBe(true);
  });

  test("daemon shutdown kills it", async () => {
    const daemon = await startDaemon({ args: ["--stop-grace", String(FOREVER_MS)] });
    const agent = await spawnFake(daemon);
    const pid = await escapee(daemon, agent.id);
    expect(await daemon.stop("SIGTERM")).toBe(0);
    expect(processGone(pid)).toBe(true);
    expect(processesOfAgent(agent.id)).toEqual([]);
  });
});
