import { Elysia } from "elysia";
import type { AppContext } from "./context.ts";

/** Requests that matched no route share one label, so unknown paths cannot grow the series. */
const UNMATCHED = "unmatched";

/**
 * `GET /metrics` in Prometheus text format, and the HTTP metrics: every request counted by its
 * route's pattern (`/agents/:id`, never the path itself) and status, and timed to its answer.
 */
export function metricsRoutes(ctx: AppContext) {
  const began = new WeakMap<Request, number>();
  return new Elysia({ name: "agentd.metrics" })
    .onRequest(({ request }) => {
      began.set(request, performance.now());
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set, responseValue }) => {
      const start = began.get(request);
      if (start === undefined) return;
      const status =
        responseValue instanceof Response
          ? responseValue.status
          : typeof set.status === "number"
            ? set.status
            : 200;
      const seconds = (performance.now() - start) / 1000;
      ctx.metrics.httpRequest(request.method, route || UNMATCHED, status, seconds);
    })
    .get(
      "/metrics",
      async () =>
        new Response(await ctx.metrics.text(), {
          headers: { "content-type": ctx.metrics.contentType },
        }),
      {
        detail: {
          summary:
            "Prometheus metrics: agents, turns, tokens and cost, events, webhooks, event streams, restarts, HTTP, process",
          tags: ["health"],
        },
      },
    );
}
