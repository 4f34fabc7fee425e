import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { type AgentJson, ask, FAKE_AGENT_COMMAND, getAgent } from "../../helpers/agents.ts";
import { startDaemon, stopAllDaemons } from "../../helpers/daemon.ts";
import { describeWithSystemd, startUserManager } from "../../helpers/systemd.ts";
import { waitFor } from "../../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

const manager = await startUserManager();

afterAll(async () => {
  await stopAllDaemons();
  await manager?.stop();
});

describeWithSystemd("a persistent agent's turn_timeout_s", manager, (systemd) => {
  test("a turn past its limit is failed, and the unit's process is replaced (it restarts on failure)", async () => {
    const daemon = await startDaemon({ env: systemd.env });
    const created = await daemon.api<AgentJson>("/agents", {
      method: "POST",
      body: JSON.stringify({
        name: "slowpoke",
        mode: "persistent",
        command: FAKE_AGENT_COMMAND,
        cwd: daemon.home,
        turn_timeout_s: 1,
      }),
    });
    expect(created.status).toBe(201);
    expect((await ask(daemon, "slowpoke", "ready?")).status).toBe("completed");
    const before = await getAgent(daemon, "slowpoke");
    expect(await ask(daemon, "slowpoke", "SLOW:60000")).toMatchObject({
      status: "error",
      error: "the turn took longer than its limit of 1 s (turn_timeout_s)",
    });
    const after = await waitFor("a new process under the unit", async () => {
      const now = await getAgent(daemon, "slowpoke");
      return now.status === "idle" && now.pid !== before.pid && now;
    });
    expect(after.restarts).toBe(1);
    expect((await ask(daemon, "slowpoke", "hello")).response).toBe("echo: hello");
    await daemon.api("/agents/slowpoke", { method: "DELETE" });
  });
});
