import { Agentd } from "../lib/agentd.ts";
import { createAgent, removeAgent } from "../lib/agents.ts";
import { BareParent } from "../lib/bare-parent.ts";
import { IDLE_AGENT } from "../lib/paths.ts";
import type { Scenario } from "../lib/scenario.ts";

/**
 * Starting agents one after another: agentd's POST /agents (record, log, spawn, answer) for a
 * shell agent that starts in no time, against a bare Bun.spawn of the same agent. The same
 * daemon all along; the agents are removed, untimed, after each measurement.
 */
export const spawnOverhead: Scenario = {
  id: "spawn-overhead",
  title: "spawn overhead, 50 minimal shell agents",
  baseline: "bare Bun.spawn",
  metric: { unit: "ms/agent", better: "lower" },
  target: { compare: "difference", bound: "max", value: 1 },
  async prepare(context) {
    const count = context.smoke ? 10 : 50;
    const daemon = await Agentd.start(context.session, context.agentd);
    let parent: BareParent | undefined;
    try {
      parent = await BareParent.start(context.session);
      const bare = parent;
      let created = 0;
      return {
        async agentd() {
          const ids: string[] = [];
          const start = performance.now();
          for (let i = 0; i < count; i++) {
            ids.push(await createAgent(daemon, { name: `idle${++created}`, command: IDLE_AGENT }));
          }
          const ms = performance.now() - start;
          for (const id of ids) await removeAgent(daemon, id);
          return ms / count;
        },
        async baseline() {
          const ms = await bare.spawn(count);
          await bare.release();
          return ms / count;
        },
        notes: () => [`${count} agents started one after another per measurement`],
        async close() {
          await bare.close();
          await daemon.stop();
        },
      };
    } catch (error) {
      await parent?.close();
      await daemon.stop();
      throw error;
    }
  },
};
