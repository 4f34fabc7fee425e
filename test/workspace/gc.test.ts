import type { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentStatus } from "../../src/agents/status.ts";
import { insertAgent, updateAgent } from "../../src/store/agents.ts";
import { openDatabase } from "../../src/store/db.ts";
import { getWorkspace, insertWorkspace } from "../../src/store/workspaces.ts";
import { collectGarbage } from "../../src/workspace/gc.ts";
import { createManagedDir } from "../../src/workspace/managed-dir.ts";
import { addWorktree } from "../../src/workspace/worktree.ts";
import { commitFile, gitIn, newRepo } from "../helpers/git.ts";
import { sampleAgent } from "../helpers/store.ts";
import { tempDir } from "../helpers/tmp.ts";

const DAY = 86_400_000;
const NOW = new Date();
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();

interface Setup {
  db: Database;
  root: string;
  repo: string;
}

function setup(): Setup {
  return {
    db: openDatabase(join(tempDir(), "agentd.db")),
    root: join(tempDir(), "workspaces"),
    repo: newRepo(),
  };
}

function agent(db: Database, id: string, status: AgentStatus): void {
  insertAgent(db, sampleAgent(id));
  updateAgent(db, id, { status });
}

function managedDir(s: Setup, id: string, status: AgentStatus, idleDays: number): string {
  agent(s.db, id, status);
  const path = createManagedDir(s.root, id);
  writeFileSync(join(path, "notes.txt"), "scratch");
  insertWorkspace(s.db, {
    agent_id: id,
    kind: "dir",
    path,
    repo: null,
    branch: null,
    base: null,
    size_bytes: 4096,
    accessed_at: daysAgo(idleDays),
  });
  return path;
}

async function worktree(s: Setup, id: string, status: AgentStatus, idleDays: number) {
  agent(s.db, id, status);
  const added = await addWorktree({ repo: s.repo }, join(s.root, id), `agentd/${id}`);
  insertWorkspace(s.db, {
    agent_id: id,
    kind: "worktree",
    ...added,
    accessed_at: daysAgo(idleDays),
  });
  return added;
}

function external(s: Setup, id: string, idleDays: number): string {
  agent(s.db, id, "stopped");
  const path = tempDir();
  writeFileSync(join(path, "mine.txt"), "not agentd's");
  insertWorkspace(s.db, {
    agent_id: id,
    kind: "external",
    path,
    repo: null,
    branch: null,
    base: null,
    accessed_at: daysAgo(idleDays),
  });
  return path;
}

/** Workspaces made in the same millisecond come in any order. */
function byAgent<T extends { agent_id: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.agent_id.localeCompare(b.agent_id));
}

describe("workspace garbage collection", () => {
  test("removes finished agents' workspaces unused for longer than asked, keeps the rest and says why", async () => {
    const s = setup();
    const old = managedDir(s, "old", "stopped", 10);
    const recent = managedDir(s, "recent", "completed", 2);
    const busy = managedDir(s, "busy", "running", 10);
    const clean = await worktree(s, "clean", "failed", 10);
    const ext = external(s, "ext", 100);

    const report = await collectGarbage(s.db, { olderThanMs: 7 * DAY, dryRun: false, now: NOW });

    expect(report.dry_run).toBe(false);
    expect(report.older_than).toBe("1w");
    expect(byAgent(report.removed)).toEqual([
      { agent_id: "clean", kind: "worktree", path: clean.path, size_bytes: null, note: null },
      { agent_id: "old", kind: "dir", path: old, size_bytes: 4096, note: null },
    ]);
    expect(byAgent(report.kept).map((k) => [k.agent_id, k.reason])).toEqual([
      ["busy", "its agent is running"],
      ["ext", expect.stringContaining("external cwd")],
      ["recent", expect.stringContaining("less than 1w ago")],
    ]);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(clean.path)).toBe(false);
    expect(gitIn(s.repo, "branch", "--format=%(refname:short)")).toBe("main");
    expect(gitIn(s.repo, "worktree", "list", "--porcelain")).not.toContain(clean.path);
    expect(getWorkspace(s.db, "old")?.status).toBe("removed");
    expect(getWorkspace(s.db, "clean")?.status).toBe("removed");
    for (const path of [recent, busy, ext]) expect(existsSync(path)).toBe(true);
    expect(getWorkspace(s.db, "recent")?.status).toBe("active");

    const again = await collectGarbage(s.db, { olderThanMs: 7 * DAY, dryRun: false, now: NOW });
    expect(again.removed).toEqual([]);
    expect(byAgent(again.kept).map((k) => k.agent_id)).toEqual(["busy", "ext", "recent"]);
    s.db.close();
  });

  test("the age limit is the caller's: a shorter one takes more", async () => {
    const s = setup();
    const recent = managedDir(s, "recent", "completed", 2);
    const report = await collectGarbage(s.db, { olderThanMs: DAY, dryRun: false, now: NOW });
    expect(report.removed.map((r) => r.agent_id)).toEqual(["recent"]);
    expect(existsSync(recent)).toBe(false);
    s.db.close();
  });

  test("a worktree holding work is kept, with exactly what would be lost", async () => {
    const s = setup();
    const risky = await worktree(s, "risky", "stopped", 10);
    const sha = commitFile(risky.path, "work.txt", "work\n", "unmerged work");
    writeFileSync(join(risky.path, "wip.txt"), "wip");

    const report = await collectGarbage(s.db, { olderThanMs: 7 * DAY, dryRun: false, now: NOW });

    expect(report.removed).toEqual([]);
    expect(report.kept).toEqual([
      {
        agent_id: "risky",
        kind: "worktree",
        path: risky.path,
        reason: expect.stringContaining("it holds work"),
        work_at_risk: [
          {
            path: risky.path,
            uncommitted: ["?? wip.txt"],
            unmerged_commits: [{ sha, subject: "unmerged work" }],
          },
        ],
      },
    ]);
    expect(existsSync(join(risky.path, "wip.txt"))).toBe(true);
    expect(gitIn(s.repo, "rev-parse", "agentd/risky")).toBe(sha);
    expect(getWorkspace(s.db, "risky")?.status).toBe("active");
    s.db.close();
  });

  test("a dry run reports what it would remove and keep, and removes nothing", async () => {
    const s = setup();
    const old = managedDir(s, "old", "stopped", 10);
    const clean = await worktree(s, "clean", "stopped", 10);
    const risky = await worktree(s, "risky", "stopped", 10);
    writeFileSync(join(risky.path, "wip.txt"), "wip");

    const report = await collectGarbage(s.db, { olderThanMs: 7 * DAY, dryRun: true, now: NOW });

    expect(report.dry_run).toBe(true);
    expect(byAgent(report.removed).map((r) => r.agent_id)).toEqual(["clean", "old"]);
    expect(report.kept.map((k) => [k.agent_id, k.work_at_risk?.[0]?.uncommitted])).toEqual([
      ["risky", ["?? wip.txt"]],
    ]);
    for (const path of [old, clean.path, risky.path]) expect(existsSync(path)).toBe(true);
    expect(gitIn(s.repo, "branch", "--format=%(refname:short)").split("\n")).toContain(
      "agentd/clean",
    );
    for (const id of ["old", "clean", "risky"]) {
      expect(getWorkspace(s.db, id)?.status).toBe("active");
    }
    s.db.close();
  });

  test("an agent started again while gc runs keeps its workspace", async () => {
    const s = setup();
    managedDir(s, "first", "stopped", 10);
    const restarted = managedDir(s, "restarted", "stopped", 10);
    // The first removal's safety check gives the agent time to come back.
    const gc = collectGarbage(s.db, { olderThanMs: 7 * DAY, dryRun: false, now: NOW });
    updateAgent(s.db, "restarted", { status: "running" });
    const report = await gc;
    expect(report.removed.map((r) => r.agent_id)).toEqual(["first"]);
    expect(report.kept).toEqual([
      { agent_id: "restarted", kind: "dir", path: restarted, reason: "its agent is running" },
    ]);
    expect(existsSync(restarted)).toBe(true);
    s.db.close();
  });
});
