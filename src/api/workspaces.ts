import { type Static, Type } from "@sinclair/typebox";
import { literals, Nullable } from "./helpers.ts";

const Kind = literals(["dir", "worktree", "external"]);

/** An agent's workspace, as `GET /workspaces` lists it (with its agent's status). */
export const WorkspaceSchema = Type.Object({
  agent_id: Type.String(),
  agent_status: Type.String(),
  kind: Kind,
  path: Type.String(),
  repo: Nullable(Type.String()),
  branch: Nullable(Type.String()),
  base: Nullable(Type.String()),
  status: literals(["active", "missing", "removed"]),
  size_bytes: Nullable(Type.Integer()),
  created_at: Type.String(),
  accessed_at: Type.String(),
});
export type WorkspaceView = Static<typeof WorkspaceSchema>;

/** What removing a workspace would lose: files not committed, commits on no other branch. */
export const WorkAtRiskSchema = Type.Object({
  path: Type.String(),
  uncommitted: Type.Array(Type.String()),
  unmerged_commits: Type.Array(Type.Object({ sha: Type.String(), subject: Type.String() })),
});

export const GcBody = Type.Object(
  {
    older_than: Type.Optional(Type.String({ description: "e.g. 7d, 12h, 1d12h; 7d when absent" })),
    dry_run: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const GcReportSchema = Type.Object({
  dry_run: Type.Boolean(),
  older_than: Type.String(),
  removed: Type.Array(
    Type.Object({
      agent_id: Type.String(),
      kind: Kind,
      path: Type.String(),
      size_bytes: Nullable(Type.Integer()),
      note: Nullable(Type.String()),
    }),
  ),
  kept: Type.Array(
    Type.Object({
      agent_id: Type.String(),
      kind: Kind,
      path: Type.String(),
      reason: Type.String(),
      work_at_risk: Type.Optional(Type.Array(WorkAtRiskSchema)),
    }),
  ),
});
export type GcReport = Static<typeof GcReportSchema>;
