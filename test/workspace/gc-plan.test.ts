import { describe, expect, test } from "bun:test";
import type { AgentStatus } from "../../src/agents/status.ts";
import type {
  WorkspaceKind,
  WorkspaceListing,
  WorkspaceStatus,
} from "../../src/store/workspaces.ts";
import { planGc } from "../../src/workspace/gc-plan.ts";

const DAY = 24 * 3_600_000;
const NOW = new Date("2026-05-20T12:00:00.000Z");
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();

function workspace(
  kind: WorkspaceKind,
  agent_status: AgentStatus,
  accessedDaysAgo: number,
  status: WorkspaceStatus = "active",
): WorkspaceListing {
  return {
    agent_id: "a",
    kind,
    path: "/w/a",
    repo: kind === "worktree" ? "/r" : null,
    branch: kind === "worktree" ? "agentd/a" : null,
    base: null,
    status,
    size_bytes: 10,
    created_at: daysAgo(30),
    accessed_at: daysAgo(accessedDaysAgo),
    agent_status,
  };
}

describe("gc planning", () => {
  const cases: [string, WorkspaceListing, string | null][] = [
    ["a stopped agent's old directory goes", workspace("dir", "stopped", 8), null],
    ["a completed agent's old worktree goes", workspace("worktree", "completed", 8), null],
    ["a failed agent's old directory goes", workspace("dir", "failed", 30), null],
    ["a lost agent's old worktree goes", workspace("worktree", "lost", 8), null],
    ["a missing directory's record is cleared", workspace("dir", "stopped", 8, "missing"), null],
    ["a recent one stays", workspace("dir", "stopped", 6), "less than 1w ago"],
    ["exactly the age limit stays", workspace("dir", "stopped", 7), "less than 1w ago"],
    ["an external cwd stays", workspace("external", "stopped", 100), "external cwd"],
    ["a running agent's stays", workspace("dir", "running", 100), "its agent is running"],
    ["an idle agent's stays", workspace("worktree", "idle", 100), "its agent is idle"],
    ["a pending agent's stays", workspace("dir", "pending", 100), "its agent is pending"],
    ["a starting agent's stays", workspace("dir", "starting", 100), "its agent is starting"],
    ["a stopping agent's stays", workspace("dir", "stopping", 100), "its agent is stopping"],
  ];

  for (const [behaviour, listing, keepReason] of cases) {
    test(behaviour, () => {
      const [decision] = planGc([listing], { olderThanMs: 7 * DAY, now: NOW });
      if (keepReason === null) {
        expect(decision).toEqual({ action: "remove", workspace: listing });
      } else {
        expect(decision?.action).toBe("keep");
        expect(decision?.action === "keep" && decision.reason).toContain(keepReason);
      }
    });
  }

  test("workspaces already removed are left out", () => {
    expect(
      planGc([workspace("dir", "stopped", 30, "removed")], { olderThanMs: DAY, now: NOW }),
    ).toEqual([]);
  });

  test("a last use that cannot be read keeps the workspace", () => {
    const unreadable = { ...workspace("dir", "stopped", 30), accessed_at: "yesterday-ish" };
    const [decision] = planGc([unreadable], { olderThanMs: DAY, now: NOW });
    expect(decision?.action).toBe("keep");
  });
});
