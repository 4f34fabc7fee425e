import { Elysia } from "elysia";
import { agentRoutes } from "./agents.ts";
import { bearerAuth } from "./auth.ts";
import type { AppContext } from "./context.ts";
import { costRoutes } from "./cost.ts";
import { crossOrigin } from "./cross-origin.ts";
import { dashboardRoutes } from "./dashboard.ts";
import { errorMapping } from "./errors.ts";
import { eventRoutes } from "./events.ts";
import { healthRoutes } from "./health.ts";
import { hostCheck } from "./host-check.ts";
import { jsonBodies } from "./json-body.ts";
import { metricsRoutes } from "./metrics.ts";
import { openapiRoutes } from "./openapi.ts";
import { protocolRoutes } from "./protocols.ts";
import { workspaceRoutes } from "./workspaces.ts";

export function createApp(ctx: AppContext) {
  // normalize off: unknown fields are refused (422), not silently dropped.
  return (
    new Elysia({ normalize: false })
      .use(errorMapping)
      // Before the checks: a request they refuse is counted too.
      .use(metricsRoutes(ctx))
      // Checked in this order: the Host named, the page's origin (a preflight is answered
      // here, without a token, as browsers send none), the token, then the body.
      .use(hostCheck(ctx.config))
      .use(crossOrigin(ctx.config))
      .use(bearerAuth(ctx.config.token, ctx.config.metricsToken))
      .use(jsonBodies)
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
