import { readSides } from "../lib/http-api.ts";
import type { Scenario } from "../lib/scenario.ts";

/**
 * The whole agent list in one page (`?limit=1000`: pages hold 100 agents by default), as a
 * dashboard or `agentd ls` reads it, against the same bytes from a constant route.
 */
export const listAgents: Scenario = {
  id: "list-agents",
  title: "GET /agents, 1000 agents in one page",
  baseline: "Elysia returning the same JSON",
  metric: { unit: "req/s", better: "higher" },
  target: { compare: "ratio", bound: "min", value: 0.5 },
  prepare: (context) =>
    readSides(context, { agents: context.smoke ? 50 : 1000, read: "list", connections: 32 }),
};
