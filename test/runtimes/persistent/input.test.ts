import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { type AgentJson, ask, FAKE_AGENT_COMMAND } from "../../helpers/agents.ts";
import { startDaemon, stopAllDaemons } from "../../helpers/daemon.ts";
import { promptsToAStoppedAgent } from "../../helpers/input.ts";
import { describeWithSystemd, startUserManager } from "../../helpers/systemd.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

const manager = await startUserManager();

afterAll(async () => {
  await stopAllDaemons();
  await manager?.stop();
});

describeWithSystemd("a persistent agent's FIFO", manager, (systemd) => {
  test("prompts to an agent not reading its FIFO (SIGSTOP) are queued up to a limit, then refused with 503 at once; the queued ones are answered once it reads again", async () => {
    const daemon = await startDaemon({ env: systemd.env });
    const created = await daemon.api<AgentJson>("/agents", {
      method: "POST",
      body: JSON.stringify({
        name: "stalled",
        mode: "persistent",
        command: FAKE_AGENT_COMMAND,
        cwd: daemon.home,
      }),
    });
    expect(created.status).toBe(201);
    await promptsToAStoppedAgent(daemon, "stalled", created.body.pid as number);
    expect((await ask(daemon, "stalled", "still here")).response).toBe("echo: still here");
    await daemon.api("/agents/stalled", { method: "DELETE" });
  });
});
