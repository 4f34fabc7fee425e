import { join } from "node:path";
import { homeArgs } from "../lib/agentd.ts";
import { compileBaseline } from "../lib/compile.ts";
import type { Scenario } from "../lib/scenario.ts";
import { medianReadyMs } from "../lib/startup.ts";

/** From starting the daemon binary to its first answer on /health, on an existing database. */
export const daemonStart: Scenario = {
  id: "daemon-start",
  title: "daemon start to first /health (binary)",
  baseline: "compiled Bun.serve hello",
  metric: { unit: "ms", better: "lower" },
  target: { compare: "ratio", bound: "max", value: 3 },
  async prepare(context) {
    const server = join(context.session.dir("hello-server"), "hello-server");
    await compileBaseline("bench/baselines/hello-server.ts", server);
    const home = context.session.dir("agentd");
    const daemon = [...context.agentd, "daemon", "--port", "0", ...homeArgs(home)];
    const runs = context.smoke ? 2 : 10;
    return {
      agentd: () => medianReadyMs(context.session, daemon, "/health", runs),
      baseline: () => medianReadyMs(context.session, [server], "/health", runs),
      notes: () => [
        `each measurement: the median of ${runs} starts; the database exists after the first`,
      ],
      close: async () => {},
    };
  },
};
