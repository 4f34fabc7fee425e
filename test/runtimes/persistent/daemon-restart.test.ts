import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { ask, FAKE_AGENT_COMMAND, FAKE_TURN_COST, getAgent } from "../../helpers/agents.ts";
import { startDaemon, stopAllDaemons } from "../../helpers/daemon.ts";
import { describeWithSystemd, startUserManager } from "../../helpers/systemd.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { waitFor } from "../../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

const manager = await startUserManager();

afterAll(async () => {
  await stopAllDaemons();
  await manager?.stop();
});

describeWithSystemd("persistent agents across daemon restarts", manager, (systemd) => {
  const home = tempDir("agentd-persistent-restart-");
  const start = () => startDaemon({ home, env: systemd.env });

  test("after the daemon is killed with SIGKILL, send, status and stop still work and no cost is counted twice", async () => {
    const first = await start();
    const created = await first.api("/agents", {
      method: "POST",
      body: JSON.stringify({
        name: "survivor",
        mode: "persistent",
        command: FAKE_AGENT_COMMAND,
        cwd: home,
      }),
    });
    expect(created.status).toBe(201);
    await ask(first, "survivor", "one");
    await ask(first, "survivor", "two");
    const before = await getAgent(first, "survivor");
    expect(before).toMatchObject({ turns: 2, cost_micro_usd: 2 * FAKE_TURN_COST });

    await first.stop("SIGKILL");
    // The agent outlives the daemon: its unit is systemd's, not the daemon's child.
    const shown = await systemd.systemctl(
      "show",
      "-p",
      "MainPID",
      "--value",
      "agentd-agent@survivor.service",
    );
    expect(Number(shown.stdout.trim())).toBe(before.pid as number);

    const second = await start();
    expect(await getAgent(second, "survivor")).toMatchObject({
      status: "idle",
      pid: before.pid,
      turns: 2,
      cost_micro_usd: 2 * FAKE_TURN_COST,
    });
    expect(await ask(second, "survivor", "three")).toMatchObject({
      status: "completed",
      response: "echo: three",
    });
    expect(await getAgent(second, "survivor")).toMatchObject({
      turns: 3,
      cost_micro_usd: 3 * FAKE_TURN_COST,
    });
    const messages = await second.api<unknown[]>("/agents/survivor/messages");
    expect(messages.body).toHaveLength(6);

    const stopped = await second.api("/agents/survivor/stop", { method: "POST" });
    expect(stopped.body).toMatchObject({ status: "stopped" });
    expect(await second.stop()).toBe(0);
  });

  test("turns the agent finished while the daemon was down are picked up from the events file", async () => {
    const first = await start();
    await first.api("/agents", {
      method: "POST",
      body: JSON.stringify({
        name: "offline",
        mode: "persistent",
        command: FAKE_AGENT_COMMAND,
        cwd: home,
      }),
    });
    const sent = await first.api<{ turn_id: string }>("/agents/offline/send", {
      method: "POST",
      body: JSON.stringify({ message: "SLOW:500 answer while nobody listens" }),
    });
    expect(sent.status).toBe(200);
    await first.stop("SIGKILL");

    const second = await start();
    const turn = await waitFor("the turn answered while the daemon was down", async () => {
      const res = await second.api<{ status: string; response: string }>(
        `/agents/offline/turns/${sent.body.turn_id}`,
      );
      return res.body.status === "completed" ? res.body : undefined;
    });
    expect(turn.response).toBe("echo: SLOW:500 answer while nobody listens");
    expect(await getAgent(second, "offline")).toMatchObject({
      turns: 1,
      cost_micro_usd: FAKE_TURN_COST,
    });
  });
});
