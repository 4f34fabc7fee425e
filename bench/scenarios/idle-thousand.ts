import { idleSides } from "../lib/idle.ts";
import type { Scenario } from "../lib/scenario.ts";

/** A thousand idle agents on one daemon: it holds them all, and what that costs. */
export const idleThousand: Scenario = {
  id: "idle-thousand",
  title: "1000 idle agents on one daemon, memory per agent",
  baseline: "bare Bun parent holding the same children",
  metric: { unit: "KiB/agent", better: "lower" },
  target: { compare: "ratio", bound: "max", value: 1 },
  // A thousand processes a side: one repetition after the warm-up keeps the run short.
  repetitions: 1,
  prepare: (context) => idleSides(context, context.smoke ? 50 : 1000),
};
