import { Elysia } from "elysia";
import { HealthSchema } from "../api/schemas.ts";
import type { AppContext } from "./context.ts";

export function healthRoutes(ctx: AppContext) {
  return new Elysia().get(
    "/health",
    () => ({
      ok: true,
      version: ctx.version,
      uptime_s: Math.floor((Date.now() - ctx.startedAt) / 1000),
      agents: ctx.agents.countByStatus(),
      event_streams: ctx.events.subscriberCount,
      warnings: ctx.warnings(),
    }),
    {
      detail: { summary: "Liveness, version and agent counts by status", tags: ["health"] },
      response: HealthSchema,
    },
  );
}
