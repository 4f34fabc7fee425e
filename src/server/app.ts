import { Elysia } from "elysia";
import { agentRoutes } from "./agents.ts";
import { bearerAuth } from "./auth.ts";
import type { AppContext } from "./context.ts";
import { costRoutes } from "./cost.ts";
import { dashboardRoutes } from "./dashboard.ts";
import { errorMapping } from "./errors.ts";
import { eventRoutes } from "./events.ts";
import { healthRoutes } from "./health.ts";
import { metricsRoutes } from "./metrics.ts";
import { openapiRoutes } from "./openapi.ts";
import { protocolRoutes } from "./protocols.ts";
import { workspaceRoutes } from "./workspaces.ts";

export function createApp(ctx: AppContext) {
  // normalize off: unknown fields are refused (422), not silently dropped.
  return (
    new Elysia({ normalize: false })
      .use(errorMapping)
      // Before auth: a request refused for its token is counted too.
      .use(metricsRoutes(ctx))
      .use(bearerAuth(ctx.config.token, ctx.config.metricsToken))
      .use(openapiRoutes(ctx.version))
      .use(healthRoutes(ctx))
      .use(agentRoutes(ctx))
      .use(eventRoutes(ctx))
      .use(workspaceRoutes(ctx))
      .use(costRoutes(ctx))
      .use(protocolRoutes(ctx))
      .use(dashboardRoutes())
  );
}

export type App = ReturnType<typeof createApp>;
