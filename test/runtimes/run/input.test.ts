import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { ask, spawnFake } from "../../helpers/agents.ts";
import { startDaemon, stopAllDaemons } from "../../helpers/daemon.ts";
import { promptsToAStoppedAgent } from "../../helpers/input.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

test("prompts to an agent not reading its stdin (SIGSTOP) are queued up to a limit, then refused with 503 at once; the queued ones are answered once it reads again", async () => {
  const daemon = await startDaemon();
  const agent = await spawnFake(daemon);
  await promptsToAStoppedAgent(daemon, agent.id, agent.pid as number);
  expect((await ask(daemon, agent.id, "still here")).response).toBe("echo: still here");
});
