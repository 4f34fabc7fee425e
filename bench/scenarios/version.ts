import { join } from "node:path";
import { compileBaseline } from "../lib/compile.ts";
import type { Scenario } from "../lib/scenario.ts";
import { medianRunMs } from "../lib/startup.ts";

/** A client command's cold start: the compiled binary, run to the end. */
export const version: Scenario = {
  id: "version",
  title: "`agentd version` (binary, cold start)",
  baseline: "compiled hello-world",
  metric: { unit: "ms", better: "lower" },
  target: { compare: "ratio", bound: "max", value: 2 },
  async prepare(context) {
    const hello = join(context.session.dir("hello"), "hello");
    await compileBaseline("bench/baselines/hello.ts", hello);
    const runs = context.smoke ? 3 : 20;
    return {
      agentd: async () => medianRunMs([...context.agentd, "version"], runs),
      baseline: async () => medianRunMs([hello], runs),
      notes: () => [`each measurement: the median of ${runs} runs`],
      close: async () => {},
    };
  },
};
