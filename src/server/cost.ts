import { Elysia, t } from "elysia";
import { PricesSchema, UsageGroupSchema, UsageReportSchema } from "../api/cost.ts";
import { parseDuration } from "../duration.ts";
import { BadRequestError } from "../errors.ts";
import type { AppContext } from "./context.ts";

const TIME_HELP =
  "an ISO time (2026-05-01, 2026-05-01T12:00:00Z) or a duration back from now (7d, 12h, 1d12h)";

/** Usage totals across agents, and the per-model price table. */
export function costRoutes(ctx: AppContext) {
  return new Elysia({ tags: ["cost"] })
    .get(
      "/usage",
      ({ query }) => {
        const now = Date.now();
        const since = timeBound("since", query.since, now);
        const until = timeBound("until", query.until, now);
        if (since !== null && until !== null && since >= until) {
          throw new BadRequestError(`since (${since}) must come before until (${until})`);
        }
        return ctx.costs.usage(query.group_by ?? "agent", { since, until });
      },
      {
        query: t.Object({
          group_by: t.Optional(UsageGroupSchema),
          since: t.Optional(t.String({ description: `from, inclusive: ${TIME_HELP}` })),
          until: t.Optional(t.String({ description: `to, exclusive: ${TIME_HELP}` })),
        }),
        response: UsageReportSchema,
        detail: {
          summary:
            "Tokens and cost by agent, model, UTC day or protocol; calls and turns of unknown cost are counted apart, never as zero",
        },
      },
    )
    .get("/prices", () => ctx.costs.prices(), {
      response: PricesSchema,
      detail: { summary: "The price table: US dollars per million tokens, by model" },
    })
    .put("/prices", ({ body }) => ctx.costs.setPrices(body), {
      body: PricesSchema,
      response: PricesSchema,
      detail: {
        summary:
          "Replace the price table; usage of unknown cost recorded from now on is priced with it",
      },
    });
}

/** A bound of a usage window as an ISO time; null when not given. */
function timeBound(name: string, text: string | undefined, now: number): string | null {
  if (text === undefined || text === "") return null;
  const back = parseDuration(text);
  if (back !== null) return new Date(now - back).toISOString();
  const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time)) throw new BadRequestError(`${name} "${text}" is not ${TIME_HELP}`);
  return new Date(time).toISOString();
}
