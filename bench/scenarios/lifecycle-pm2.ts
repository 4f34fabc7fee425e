import { join } from "node:path";
import { Agentd } from "../lib/agentd.ts";
import { createAgent, removeAgent } from "../lib/agents.ts";
import { IDLE_AGENT_ARGV } from "../lib/bare-parent.ts";
import { LineChild } from "../lib/line-child.ts";
import { BENCH_DIR, IDLE_AGENT } from "../lib/paths.ts";
import { type Scenario, Skip } from "../lib/scenario.ts";

/**
 * Start, stop and delete processes, each step for all of them one after another: agentd's API
 * against pm2's (a pinned dev dependency, run by node with its own PM2_HOME). Both daemons stay
 * up across the measurements, as they would in use.
 */
export const lifecyclePm2: Scenario = {
  id: "lifecycle-pm2",
  title: "start + stop + delete of 50 processes",
  baseline: "pm2 7",
  metric: { unit: "ms", better: "lower" },
  target: { compare: "ratio", bound: "max", value: 1 },
  async prepare(context) {
    const node = Bun.which("node");
    if (!node) throw new Skip("node is not on PATH (pm2 runs on node)");
    const count = context.smoke ? 5 : 50;
    const daemon = await Agentd.start(context.session, context.agentd);
    try {
      const { child: pm2 } = await LineChild.start(
        context.session,
        "the pm2 baseline",
        [node, join(BENCH_DIR, "baselines/pm2-lifecycle.cjs")],
        { PM2_HOME: context.session.dir("pm2-home") },
      );
      let created = 0;
      return {
        async agentd() {
          const start = performance.now();
          const ids: string[] = [];
          for (let i = 0; i < count; i++) {
            ids.push(await createAgent(daemon, { name: `proc${++created}`, command: IDLE_AGENT }));
          }
          for (const id of ids) await daemon.post(`/agents/${id}/stop`);
          for (const id of ids) await removeAgent(daemon, id);
          return performance.now() - start;
        },
        async baseline() {
          return (await pm2.request<{ ms: number }>({ cycle: count, argv: IDLE_AGENT_ARGV })).ms;
        },
        notes: () => [`${count} processes (the idle shell agent) per measurement`],
        async close() {
          await pm2.close();
          await daemon.stop();
        },
      };
    } catch (error) {
      await daemon.stop();
      throw error;
    }
  },
};
