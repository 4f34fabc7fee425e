import { readSides } from "../lib/http-api.ts";
import type { Scenario } from "../lib/scenario.ts";

/** One agent by id, at concurrency 32. */
export const getAgent: Scenario = {
  id: "get-agent",
  title: "GET /agents/:id, concurrency 32",
  baseline: "Elysia constant route, same JSON",
  metric: { unit: "req/s", better: "higher" },
  target: { compare: "ratio", bound: "min", value: 0.5 },
  prepare: (context) =>
    readSides(context, { agents: context.smoke ? 50 : 1000, read: "one", connections: 32 }),
};
