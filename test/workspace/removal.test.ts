import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { WorkspaceKind } from "../../src/store/workspaces.ts";
import {
  type RemovableWorkspace,
  removeWorkspace,
  WorkAtRiskError,
  workAtRisk,
} from "../../src/workspace/removal.ts";
import { parsePorcelain } from "../../src/workspace/safety.ts";
import { addWorktree } from "../../src/workspace/worktree.ts";
import { addBareRemote, commitFile, gitIn, newRepo } from "../helpers/git.ts";
import { tempDir } from "../helpers/tmp.ts";

async function agentWorktree(): Promise<RemovableWorkspace & { repo: string; branch: string }> {
  const repo = newRepo();
  const worktree = await addWorktree({ repo }, join(tempDir(), "agent-1"), "agentd/agent-1");
  return { kind: "worktree", ...worktree };
}

function branches(repo: string): string[] {
  return gitIn(repo, "branch", "--format=%(refname:short)").split("\n");
}

async function refusal(workspace: RemovableWorkspace): Promise<WorkAtRiskError> {
  const error = await removeWorkspace(workspace, { force: false }).catch((e) => e);
  expect(error).toBeInstanceOf(WorkAtRiskError);
  return error as WorkAtRiskError;
}

describe("removing a worktree", () => {
  test("a clean worktree with nothing new is removed with its branch", async () => {
    const worktree = await agentWorktree();
    expect(await workAtRisk(worktree)).toEqual([]);
    expect(await removeWorkspace(worktree, { force: false })).toEqual({
      removed: true,
      note: null,
    });
    expect(existsSync(worktree.path)).toBe(false);
    expect(branches(worktree.repo)).toEqual(["main"]);
  });

  test("uncommitted and untracked files refuse it with a 409 listing them, and nothing is removed", async () => {
    const worktree = await agentWorktree();
    writeFileSync(join(worktree.path, "README"), "changed\n");
    writeFileSync(join(worktree.path, "new.txt"), "new\n");
    mkdirSync(join(worktree.path, "newdir"));
    writeFileSync(join(worktree.path, "newdir/a"), "a\n");
    const error = await refusal(worktree);
    expect(error.status).toBe(409);
    expect(error.risks).toEqual([
      {
        path: worktree.path,
        uncommitted: [" M README", "?? new.txt", "?? newdir/"],
        unmerged_commits: [],
      },
    ]);
    expect(error.details).toEqual({ work_at_risk: error.risks });
    expect(error.message).toContain("3 uncommitted files");
    expect(readFileSync(join(worktree.path, "new.txt"), "utf8")).toBe("new\n");
    expect(branches(worktree.repo)).toContain("agentd/agent-1");
  });

  test("files git ignores are not work", async () => {
    const worktree = await agentWorktree();
    commitFile(worktree.path, ".gitignore", "build/\n", "ignore build");
    gitIn(worktree.repo, "merge", "--quiet", "agentd/agent-1");
    mkdirSync(join(worktree.path, "build"));
    writeFileSync(join(worktree.path, "build/out.o"), "binary");
    expect(await workAtRisk(worktree)).toEqual([]);
  });

  test("commits on no other branch refuse it, listed by sha and subject", async () => {
    const worktree = await agentWorktree();
    const first = commitFile(worktree.path, "a.txt", "a\n", "add a");
    const second = commitFile(worktree.path, "b.txt", "b\n", "add b");
    const error = await refusal(worktree);
    expect(error.risks[0]?.uncommitted).toEqual([]);
    expect(error.risks[0]?.unmerged_commits).toEqual([
      { sha: second, subject: "add b" },
      { sha: first, subject: "add a" },
    ]);
    expect(error.message).toContain("2 commits on no other branch or remote");
    expect(existsSync(worktree.path)).toBe(true);
  });

  test("force removes a dirty worktree with unmerged commits, branch included", async () => {
    const worktree = await agentWorktree();
    commitFile(worktree.path, "a.txt", "a\n", "add a");
    writeFileSync(join(worktree.path, "dirty.txt"), "dirty\n");
    expect(await removeWorkspace(worktree, { force: true })).toEqual({ removed: true, note: null });
    expect(existsSync(worktree.path)).toBe(false);
    expect(branches(worktree.repo)).toEqual(["main"]);
  });

  test("commits merged into another branch are safe", async () => {
    const worktree = await agentWorktree();
    commitFile(worktree.path, "a.txt", "a\n", "add a");
    gitIn(worktree.repo, "merge", "--quiet", "--ff-only", "agentd/agent-1");
    expect(await workAtRisk(worktree)).toEqual([]);
    await removeWorkspace(worktree, { force: false });
    expect(gitIn(worktree.repo, "log", "--format=%s", "-1")).toBe("add a");
  });

  test("a branch pushed to a remote is safe; commits made after the push are not", async () => {
    const worktree = await agentWorktree();
    addBareRemote(worktree.repo);
    commitFile(worktree.path, "a.txt", "a\n", "pushed");
    gitIn(worktree.path, "push", "--quiet", "origin", "agentd/agent-1");
    expect(await workAtRisk(worktree)).toEqual([]);
    const later = commitFile(worktree.path, "b.txt", "b\n", "not pushed");
    const error = await refusal(worktree);
    expect(error.risks[0]?.unmerged_commits).toEqual([{ sha: later, subject: "not pushed" }]);
    gitIn(worktree.path, "push", "--quiet", "origin", "agentd/agent-1");
    await removeWorkspace(worktree, { force: false });
    expect(existsSync(worktree.path)).toBe(false);
    expect(gitIn(worktree.repo, "rev-parse", "origin/agentd/agent-1")).toBe(later);
  });

  test("commits on a detached HEAD in the worktree count too", async () => {
    const worktree = await agentWorktree();
    gitIn(worktree.path, "checkout", "--quiet", "--detach");
    const detached = commitFile(worktree.path, "d.txt", "d\n", "detached work");
    const error = await refusal(worktree);
    expect(error.risks[0]?.unmerged_commits).toEqual([{ sha: detached, subject: "detached work" }]);
  });

  test("a worktree whose directory is already gone loses nothing more: it is pruned", async () => {
    const worktree = await agentWorktree();
    rmSync(worktree.path, { recursive: true, force: true });
    expect(await removeWorkspace(worktree, { force: false })).toEqual({
      removed: true,
      note: null,
    });
    expect(gitIn(worktree.repo, "worktree", "list", "--porcelain")).not.toContain(worktree.path);
    expect(branches(worktree.repo)).toEqual(["main"]);
  });

  test("a worktree whose repository is gone, or is one no more, is only files: forced, they go", async () => {
    for (const breakIt of [
      (repo: string) => rmSync(repo, { recursive: true }),
      (repo: string) => rmSync(join(repo, ".git"), { recursive: true }),
    ]) {
      const worktree = await agentWorktree();
      writeFileSync(join(worktree.path, "left.txt"), "x");
      breakIt(worktree.repo);
      expect(await removeWorkspace(worktree, { force: true })).toEqual({
        removed: true,
        note: null,
      });
      expect(existsSync(worktree.path)).toBe(false);
    }
  });
});

describe("removing a managed directory", () => {
  const dir = (path: string): RemovableWorkspace => ({
    kind: "dir" satisfies WorkspaceKind,
    path,
    repo: null,
    branch: null,
  });

  test("plain files are agentd's to delete", async () => {
    const path = tempDir();
    writeFileSync(join(path, "scratch.txt"), "x");
    expect(await removeWorkspace(dir(path), { force: false })).toEqual({
      removed: true,
      note: null,
    });
    expect(existsSync(path)).toBe(false);
  });

  test("a repository the agent made inside, with unpushed commits, refuses it unless forced", async () => {
    const path = tempDir();
    gitIn(path, "init", "--quiet", "--initial-branch=main", "project");
    const sha = commitFile(join(path, "project"), "f.txt", "f\n", "agent's work");
    const error = await refusal(dir(path));
    expect(error.risks).toEqual([
      {
        path: join(path, "project"),
        uncommitted: [],
        unmerged_commits: [{ sha, subject: "agent's work" }],
      },
    ]);
    await removeWorkspace(dir(path), { force: true });
    expect(existsSync(path)).toBe(false);
  });

  test("a clone whose work is all pushed is safe to delete", async () => {
    const path = tempDir();
    const upstream = newRepo();
    gitIn(path, "clone", "--quiet", upstream, "clone");
    expect(await workAtRisk(dir(path))).toEqual([]);
    writeFileSync(join(path, "clone", "wip.txt"), "wip");
    expect((await workAtRisk(dir(path)))[0]?.uncommitted).toEqual(["?? wip.txt"]);
  });
});

describe("an external cwd", () => {
  test("is never touched, whatever it holds, even when forced", async () => {
    const path = newRepo();
    writeFileSync(join(path, "precious.txt"), "keep me");
    const external: RemovableWorkspace = { kind: "external", path, repo: null, branch: null };
    expect(await workAtRisk(external)).toEqual([]);
    const outcome = await removeWorkspace(external, { force: true });
    expect(outcome.removed).toBe(false);
    expect(outcome.note).toContain("external");
    expect(readFileSync(join(path, "precious.txt"), "utf8")).toBe("keep me");
    expect(gitIn(path, "status", "--porcelain")).toBe("?? precious.txt");
  });
});

describe("git status entries", () => {
  test("renames show where from and where to", () => {
    expect(parsePorcelain("R  new.txt\0old.txt\0 M a\0?? b/\0")).toEqual([
      "R  old.txt -> new.txt",
      " M a",
      "?? b/",
    ]);
  });
});
