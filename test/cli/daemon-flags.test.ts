import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startDaemon, stopAllDaemons } from "../helpers/daemon.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

describe("daemon flags of the original daemon", () => {
  test("--pi-path starts the daemon with that agent command and a warning naming --agent-command", async () => {
    const daemon = await startDaemon({ args: ["--pi-path", "/bin/cat"] });
    await waitFor("the deprecation warning", () =>
      daemon.stderr().includes("--pi-path is deprecated: use --agent-command"),
    );
    const created = await daemon.api<{ id: string; command: string[] }>("/agents", {
      method: "POST",
      body: JSON.stringify({ start: false }),
    });
    expect(created.status).toBe(201);
    expect(created.body.command).toEqual(["/bin/cat"]);
    expect(await daemon.stop()).toBe(0);
  });
});
