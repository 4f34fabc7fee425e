import { Elysia, t } from "elysia";
import { DEFAULT_GC_OLDER_THAN_MS } from "../config.ts";
import { formatDuration, parseDuration } from "../duration.ts";
import { BadRequestError } from "../errors.ts";
import type { AppContext } from "./context.ts";
import { Nullable } from "./views.ts";

const Kind = t.Union([t.Literal("dir"), t.Literal("worktree"), t.Literal("external")]);

export const WorkspaceSchema = t.Object({
  agent_id: t.String(),
  agent_status: t.String(),
  kind: Kind,
  path: t.String(),
  repo: Nullable(t.String()),
  branch: Nullable(t.String()),
  base: Nullable(t.String()),
  status: t.Union([t.Literal("active"), t.Literal("missing"), t.Literal("removed")]),
  size_bytes: Nullable(t.Integer()),
  created_at: t.String(),
  accessed_at: t.String(),
});

const WorkAtRiskSchema = t.Object({
  path: t.String(),
  uncommitted: t.Array(t.String()),
  unmerged_commits: t.Array(t.Object({ sha: t.String(), subject: t.String() })),
});

const GcBody = t.Object(
  {
    older_than: t.Optional(t.String({ description: "e.g. 7d, 12h, 1d12h; 7d when absent" })),
    dry_run: t.Optional(t.Boolean()),
  },
  { additionalProperties: false },
);

export const GcReportSchema = t.Object({
  dry_run: t.Boolean(),
  older_than: t.String(),
  removed: t.Array(
    t.Object({
      agent_id: t.String(),
      kind: Kind,
      path: t.String(),
      size_bytes: Nullable(t.Integer()),
      note: Nullable(t.String()),
    }),
  ),
  kept: t.Array(
    t.Object({
      agent_id: t.String(),
      kind: Kind,
      path: t.String(),
      reason: t.String(),
      work_at_risk: t.Optional(t.Array(WorkAtRiskSchema)),
    }),
  ),
});

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
