import { Elysia } from "elysia";
import { HealthSchema } from "../api/schemas.ts";
import type { AppContext } from "./context.ts";

export function healthRoutes(ctx: AppContext) {
  return new Elysia().get(
    "/health",
    () => {
      const problems = ctx.problems();
      return {
        ok: problems.length === 0,
        version: ctx.version,
        uptime_s: Math.floor((Date.now() - ctx.startedAt) / 1000),
        agents: ctx.agents.countByStatus(),
        event_streams: ctx.events.subscriberCount,
        warnings: [...problems, ...ctx.warnings()],
      };
    },
    {
      detail: {
        summary:
          "Liveness, version, agent counts by status; not ok while storage cannot be written (warnings say which path)",
        tags: ["health"],
      },
      response: HealthSchema,
    },
  );
}
