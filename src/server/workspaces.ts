import { Elysia, t } from "elysia";
import { GcBody, GcReportSchema, WorkspaceSchema } from "../api/workspaces.ts";
import { DEFAULT_GC_OLDER_THAN_MS } from "../config.ts";
import { formatDuration, parseDuration } from "../duration.ts";
import { BadRequestError } from "../errors.ts";
import type { AppContext } from "./context.ts";

export function workspaceRoutes(ctx: AppContext) {
  const workspaces = ctx.workspaces;
  return new Elysia({ prefix: "/workspaces", tags: ["workspaces"] })
    .get("/", () => workspaces.list(), {
      response: t.Array(WorkspaceSchema),
      detail: { summary: "Agents' workspaces, with their sizes and their agents' statuses" },
    })
    .post(
      "/gc",
      ({ body }) =>
        workspaces.gc({
          olderThanMs: olderThan(body?.older_than),
          dryRun: body?.dry_run === true,
        }),
      {
        body: t.Optional(GcBody),
        response: GcReportSchema,
        detail: {
          summary: `Remove finished agents' workspaces unused for older_than (${formatDuration(DEFAULT_GC_OLDER_THAN_MS)}), never losing work`,
        },
      },
    );
}

function olderThan(text: string | undefined): number {
  if (text === undefined) return DEFAULT_GC_OLDER_THAN_MS;
  const ms = parseDuration(text);
  if (ms === null) {
    throw new BadRequestError(
      `older_than "${text}" is not a duration: use a number and w, d, h, m or s (7d, 12h, 1d12h)`,
    );
  }
  return ms;
}
