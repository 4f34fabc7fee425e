import { expect } from "bun:test";
import { createHash } from "node:crypto";
import { ask } from "./agents.ts";
import type { ApiClient } from "./daemon.ts";
import { waitFor } from "./wait.ts";

const PROMPT_BYTES = 100_000;

/**
 * Once the agent has answered a first prompt (so it is up and reading), its process `pid`
 * stops reading: SIGSTOP. 100 KB prompts are sent to it one by
 * one until one is refused — every send is answered at once, none waits on the agent. Then it
 * reads again (SIGCONT), and every prompt taken is answered whole. Returns how many were taken.
 */
export async function promptsToAStoppedAgent(
  daemon: ApiClient,
  agentId: string,
  pid: number,
): Promise<number> {
  expect((await ask(daemon, agentId, "ready?")).status).toBe("completed");
  process.kill(pid, "SIGSTOP");
  const taken: { turn: string; prompt: string }[] = [];
  let refused: { status: number; body: { error: { code: string; message: string } } } | null = null;
  for (let i = 0; i < 200 && refused === null; i++) {
    const prompt = `${i}:${"p".repeat(PROMPT_BYTES)}`;
    const res = await daemon.api<{ turn_id: string; error: { code: string; message: string } }>(
      `/agents/${agentId}/send`,
      { method: "POST", body: JSON.stringify({ message: prompt }) },
    );
    if (res.status === 200) taken.push({ turn: res.body.turn_id, prompt });
    else refused = res;
  }
  expect(refused).toMatchObject({ status: 503 });
  expect(refused?.body.error.code).toBe("agent_not_reading");
  expect(refused?.body.error.message).toContain(`agent ${agentId} did not take the prompt`);
  expect(refused?.body.error.message).toContain("not reading its input");
  // Queued up to the limit (8 MiB), not without end.
  expect(taken.length).toBeGreaterThan(10);
  expect(taken.length).toBeLessThan(100);

  process.kill(pid, "SIGCONT");
  for (const { turn, prompt } of taken) {
    const answered = await waitFor(`turn ${turn} to be answered`, async () => {
      const res = await daemon.api<{ status: string; response: string }>(
        `/agents/${agentId}/turns/${turn}`,
      );
      return res.body.status === "completed" && res.body;
    });
    const hash = createHash("sha256").update(prompt).digest("hex");
    expect(answered.response).toBe(`received ${Buffer.byteLength(prompt)} bytes sha256=${hash}`);
  }
  return taken.length;
}
