/**
 * The turn baseline: an Elysia route that relays a prompt to an agent's stdin as a v1 envelope
 * and answers with the agent's reply — agentd's send + wait, with nothing stored. Runs the flood
 * agent (answering at once); says {url} once it has answered a first prompt.
 */
import { Elysia, t } from "elysia";
import { FLOOD_AGENT } from "../lib/paths.ts";
import { serve } from "./protocol.ts";

const agent = Bun.spawn([...FLOOD_AGENT, "--provider", "auto", "--model", "auto", "--json"], {
  stdin: "pipe",
  stdout: "pipe",
  stderr: "inherit",
  env: { ...process.env, FLOOD_LINES: "0" },
});
const pending = new Map<string, (response: string) => void>();
let turns = 0;

void (async () => {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of agent.stdout) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      const event = JSON.parse(line);
      if (event.custom_type === "agent_complete")
        pending.get(event.data.turn_id)?.(event.data.response);
    }
  }
})();

function relay(input: string): Promise<{ turn_id: string; response: string }> {
  const turn_id = `turn-${++turns}`;
  const answered = new Promise<string>((resolve) => pending.set(turn_id, resolve));
  agent.stdin.write(`${JSON.stringify({ v: 1, turn_id, input, metadata: {} })}\0`);
  agent.stdin.flush();
  return answered.then((response) => {
    pending.delete(turn_id);
    return { turn_id, response };
  });
}

const app = new Elysia()
  .post("/send", async ({ body }) => ({ status: "completed", ...(await relay(body.message)) }), {
    body: t.Object({ message: t.String() }),
  })
  .listen({ hostname: "127.0.0.1", port: 0 });

await relay("ping");
await serve({ url: `http://127.0.0.1:${app.server?.port}` }, async () => {
  throw new Error("takes no requests");
});
await app.stop();
agent.stdin.end();
await agent.exited;
