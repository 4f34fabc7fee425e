import { ingestSides } from "../lib/ingest.ts";
import type { Scenario } from "../lib/scenario.ts";

/** Fifty agents flood at once, 100k lines between them. */
export const ingestFifty: Scenario = {
  id: "ingest-fifty",
  title: "ingest 100k omni lines from 50 agents at once",
  baseline: "50 pipes + split + JSON.parse",
  metric: { unit: "lines/s", better: "higher" },
  target: { compare: "ratio", bound: "min", value: 0.5 },
  prepare: (context) =>
    ingestSides(
      context,
      context.smoke
        ? { agents: 5, linesPerAgent: 400, retention: 200 }
        : { agents: 50, linesPerAgent: 2_000, retention: 10_000 },
      { mode: "run" },
    ),
};
