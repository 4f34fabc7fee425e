import { idleSides } from "../lib/idle.ts";
import type { Scenario } from "../lib/scenario.ts";

/** What holding an idle agent costs the daemon in memory, from 50 to 100 agents. */
export const idleMemory: Scenario = {
  id: "idle-memory",
  title: "idle memory per agent, 50 → 100 agents",
  baseline: "bare Bun parent holding the same children",
  metric: { unit: "KiB/agent", better: "lower" },
  target: { compare: "ratio", bound: "max", value: 1 },
  prepare: (context) => idleSides(context, context.smoke ? 10 : 100),
};
