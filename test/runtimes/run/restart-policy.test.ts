import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  type AgentJson,
  ask,
  FAKE_AGENT_COMMAND,
  getAgent,
  spawnFake,
  waitForStatus,
} from "../../helpers/agents.ts";
import {
  daemonDatabase,
  startDaemon,
  stopAllDaemons,
  type TestDaemon,
} from "../../helpers/daemon.ts";
import { processesOfAgent } from "../../helpers/processes.ts";
import { processGone, waitFor } from "../../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

const FAST_BACKOFF = { AGENTD_RESTART_DELAY_MS: "50", AGENTD_RESTART_LIMIT: "3" };

function restartEvents(daemon: TestDaemon, agentId: string) {
  const db = daemonDatabase(daemon);
  try {
    return db
      .query<{ data: string }, [string]>(
        "SELECT data FROM events WHERE agent_id = ? AND type = 'restart' ORDER BY seq",
      )
      .all(agentId)
      .map((row) => JSON.parse(row.data) as { restarts: number; delay_ms: number });
  } finally {
    db.close();
  }
}

/** The agent is up again in a new process, after `restarts` automatic restarts. */
async function restartedAs(daemon: TestDaemon, before: AgentJson, restarts: number) {
  return waitFor(`agent ${before.id} to be restarted`, async () => {
    const agent = await getAgent(daemon, before.id);
    return (
      agent.status === "idle" && agent.pid !== before.pid && agent.restarts === restarts && agent
    );
  });
}

describe("restart policy of runs", () => {
  test("on-failure: a crash (its turn fails) is followed by a new process after the backoff; the count shows", async () => {
    const daemon = await startDaemon({ env: FAST_BACKOFF });
    const agent = await spawnFake(daemon, { restart: "on-failure" });
    expect(agent.restart).toBe("on-failure");
    const crash = await ask(daemon, agent.id, "CRASH");
    expect(crash.status).toBe("error");
    const again = await restartedAs(daemon, agent, 1);
    expect(processGone(agent.pid as number)).toBe(true);
    expect(restartEvents(daemon, agent.id)).toEqual([{ restarts: 1, delay_ms: 50 }]);
    expect((await ask(daemon, agent.id, "still there?")).response).toBe("echo: still there?");
    expect(processesOfAgent(agent.id)).toEqual([again.pid as number]);
  });

  test("on-failure: exit 0 is completed, not restarted", async () => {
    const daemon = await startDaemon({ env: FAST_BACKOFF });
    const agent = await spawnFake(daemon, { restart: "on-failure" });
    await ask(daemon, agent.id, "EXIT0");
    expect((await waitForStatus(daemon, agent.id, "completed")).restarts).toBe(0);
  });

  test("always: exit 0 is restarted too", async () => {
    const daemon = await startDaemon({ env: FAST_BACKOFF });
    const agent = await spawnFake(daemon, { restart: "always" });
    await ask(daemon, agent.id, "EXIT0");
    await restartedAs(daemon, agent, 1);
  });

  test("a crash loop backs off exponentially, then gives up: failed, saying why", async () => {
    const daemon = await startDaemon({ env: FAST_BACKOFF });
    const agent = await spawnFake(daemon, {
      restart: "always",
      env: { FAKE_AGENT_CRASH_AFTER_MS: "100" },
    });
    const failed = await waitForStatus(daemon, agent.id, "failed");
    expect(failed.error).toBe(
      "the agent exited with code 3; gave up after 3 automatic restarts in a row (restart: always)",
    );
    expect(failed.restarts).toBe(3);
    expect(restartEvents(daemon, agent.id)).toEqual([
      { restarts: 1, delay_ms: 50 },
      { restarts: 2, delay_ms: 100 },
      { restarts: 3, delay_ms: 200 },
    ]);
    expect(processesOfAgent(agent.id)).toEqual([]);
    // A start by hand begins the count again.
    const started = await daemon.api<AgentJson>(`/agents/${agent.id}/start`, { method: "POST" });
    expect(started.body).toMatchObject({ restarts: 0 });
  });

  test("a stop while a restart waits out its backoff calls it off", async () => {
    const daemon = await startDaemon({ env: { AGENTD_RESTART_DELAY_MS: "60000" } });
    const agent = await spawnFake(daemon, { restart: "on-failure" });
    await ask(daemon, agent.id, "CRASH");
    await waitFor(
      "the restart to be scheduled",
      () => restartEvents(daemon, agent.id).length === 1,
    );
    expect((await getAgent(daemon, agent.id)).status).toBe("starting");
    const stopped = await daemon.api<AgentJson>(`/agents/${agent.id}/stop`, { method: "POST" });
    expect(stopped.body).toMatchObject({ status: "stopped", pid: null });
    expect(processesOfAgent(agent.id)).toEqual([]);
    expect((await daemon.api(`/agents/${agent.id}`, { method: "DELETE" })).status).toBe(200);
  });

  test("PATCH changes the policy; a persistent agent refuses one its unit cannot keep", async () => {
    const daemon = await startDaemon({ env: FAST_BACKOFF });
    const agent = await spawnFake(daemon);
    expect(agent.restart).toBe("no");
    const patched = await daemon.api<{ agent: AgentJson; restart_required: boolean }>(
      `/agents/${agent.id}`,
      { method: "PATCH", body: JSON.stringify({ restart: "on-failure" }) },
    );
    expect(patched.body).toMatchObject({
      agent: { restart: "on-failure" },
      restart_required: false,
    });
    await ask(daemon, agent.id, "CRASH");
    await restartedAs(daemon, agent, 1);

    const refused = await daemon.api<{ error: { message: string } }>("/agents", {
      method: "POST",
      body: JSON.stringify({
        name: "p1",
        mode: "persistent",
        restart: "always",
        command: FAKE_AGENT_COMMAND,
        cwd: daemon.home,
      }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('restart "always" is for runs');
  });
});
