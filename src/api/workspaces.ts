import { type Static, Type } from "@sinclair/typebox";
import { literals, Nullable } from "./helpers.ts";

const Kind = literals(["dir", "worktree", "external"]);

const workspaceFields = {
  kind: Kind,
  path: Type.String(),
  repo: Nullable(Type.String()),
  branch: Nullable(Type.String()),
  base: Nullable(Type.String()),
  status: literals(["active", "missing", "removed"]),
  size_bytes: Nullable(Type.Integer()),
  created_at: Type.String(),
  accessed_at: Type.String(),
};

/** An agent's workspace, as its agent shows it (`GET /agents/:id`, field `workspace`). */
export const AgentWorkspaceSchema = Type.Object(workspaceFields);
export type AgentWorkspaceView = Static<typeof AgentWorkspaceSchema>;

/** An agent's workspace, as `GET /workspaces` lists it (with its agent's status). */
export const WorkspaceSchema = Type.Object({
  agent_id: Type.String(),
  agent_status: Type.String(),
  ...workspaceFields,
});
export type WorkspaceView = Static<typeof WorkspaceSchema>;

/** A worktree to create for a new agent: `git worktree add -b BRANCH <root>/<id> BASE` in REPO. */
export const WorktreeRequestSchema = Type.Object(
  {
    repo: Type.String({ minLength: 1, description: "an absolute path inside a git work tree" }),
    base: Type.Optional(
      Type.String({ minLength: 1, description: "the commit-ish to start from; HEAD if absent" }),
    ),
    branch: Type.Optional(
      Type.String({ minLength: 1, description: "the new branch; agentd/<id> if absent" }),
    ),
  },
  { additionalProperties: false },
);

/** What a DELETE did with the agent's workspace. */
export const WorkspaceRemovalSchema = Type.Object({
  kind: Kind,
  path: Type.String(),
  removed: Type.Boolean(),
  /** Why something stayed: an external cwd, or a branch git would not delete. */
  note: Nullable(Type.String()),
});

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
