import { Agentd } from "../lib/agentd.ts";
import { createAgent, turn } from "../lib/agents.ts";
import { LineChild } from "../lib/line-child.ts";
import { baselineProgram, FLOOD_AGENT } from "../lib/paths.ts";
import type { Scenario } from "../lib/scenario.ts";
import { median } from "../lib/stats.ts";

/** A prompt to an agent that answers at once, and the wait for its answer, one after another. */
export const turnRoundTrip: Scenario = {
  id: "turn-round-trip",
  title: "turn round trip, send + wait (p50)",
  baseline: "Elysia route relaying to a pipe",
  metric: { unit: "ms", better: "lower" },
  target: { compare: "ratio", bound: "max", value: 2 },
  async prepare(context) {
    const turns = context.smoke ? 20 : 300;
    const daemon = await Agentd.start(context.session, context.agentd);
    try {
      const id = await createAgent(daemon, {
        name: "echo",
        command: FLOOD_AGENT,
        env: { FLOOD_LINES: "0" },
      });
      await turn(daemon, id, "ping");
      const { child: relay, ready } = await LineChild.start(
        context.session,
        "the relay baseline",
        baselineProgram("relay.ts"),
      );
      const relayUrl = `${ready.url}/send`;
      const viaRelay = async () => {
        const response = await fetch(relayUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ message: "ping" }),
        });
        const answer = (await response.json()) as { status: string };
        if (answer.status !== "completed")
          throw new Error(`the relay answered ${JSON.stringify(answer)}`);
      };
      return {
        agentd: () => p50(turns, () => turn(daemon, id, "ping")),
        baseline: () => p50(turns, viaRelay),
        notes: () => [`each measurement: the median of ${turns} turns in a row`],
        async close() {
          await relay.close();
          await daemon.stop();
        },
      };
    } catch (error) {
      await daemon.stop();
      throw error;
    }
  },
};

/** The median duration, in ms, of `count` calls made one after another. */
async function p50(count: number, call: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await call();
    times.push(performance.now() - start);
  }
  return median(times);
}
