import { ingestSides } from "../lib/ingest.ts";
import type { Scenario } from "../lib/scenario.ts";

/** One agent floods its stdout with omni lines; agentd parses and stores every event. */
export const ingestOne: Scenario = {
  id: "ingest-one",
  title: "ingest 100k omni lines from one agent",
  baseline: "pipe + split + JSON.parse",
  metric: { unit: "lines/s", better: "higher" },
  target: { compare: "ratio", bound: "min", value: 0.5 },
  prepare: (context) =>
    ingestSides(
      context,
      context.smoke
        ? { agents: 1, linesPerAgent: 2_000, retention: 500 }
        : { agents: 1, linesPerAgent: 100_000, retention: 10_000 },
      { mode: "run" },
    ),
};
