import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BadRequestError, ConflictError } from "../../src/errors.ts";
import { GitError } from "../../src/workspace/git.ts";
import { addWorktree, removeWorktree } from "../../src/workspace/worktree.ts";
import { commitFile, gitIn, newRepo } from "../helpers/git.ts";
import { tempDir } from "../helpers/tmp.ts";

function branches(repo: string): string[] {
  return gitIn(repo, "branch", "--format=%(refname:short)").split("\n");
}

describe("git worktrees", () => {
  test("a worktree is added on a new branch from the given base", async () => {
    const repo = newRepo();
    const base = gitIn(repo, "rev-parse", "HEAD");
    commitFile(repo, "later.txt", "later\n", "after the base");
    const path = join(tempDir(), "w1");
    const worktree = await addWorktree({ repo, base, branch: "feature/x" }, path, "agentd/w1");
    expect(worktree).toEqual({ path, repo, branch: "feature/x", base });
    expect(gitIn(path, "rev-parse", "HEAD")).toBe(base);
    expect(gitIn(path, "branch", "--show-current")).toBe("feature/x");
    expect(existsSync(join(path, "README"))).toBe(true);
    expect(existsSync(join(path, "later.txt"))).toBe(false);
    expect(statSync(path).mode & 0o777).toBe(0o700);
  });

  test("without base and branch: HEAD's branch is the base and the default branch is made", async () => {
    const repo = newRepo();
    const path = join(tempDir(), "w2");
    const worktree = await addWorktree({ repo }, path, "agentd/w2");
    expect(worktree.branch).toBe("agentd/w2");
    expect(worktree.base).toBe("main");
    expect(gitIn(path, "rev-parse", "HEAD")).toBe(gitIn(repo, "rev-parse", "main"));
  });

  test("a directory inside the repository names the repository's top", async () => {
    const repo = newRepo();
    mkdirSync(join(repo, "sub"));
    const worktree = await addWorktree({ repo: join(repo, "sub") }, join(tempDir(), "w"), "b");
    expect(worktree.repo).toBe(repo);
  });

  test("a directory that is not a git work tree is a 400 carrying git's message", async () => {
    const notRepo = tempDir();
    const error = await addWorktree({ repo: notRepo }, join(tempDir(), "w"), "b").catch((e) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.message).toContain(notRepo);
    expect(error.message).toContain("not a git repository");
  });

  test("a missing or relative repository path is a 400", async () => {
    const missing = await addWorktree({ repo: "/no/such/repo" }, "/tmp/x", "b").catch((e) => e);
    expect(missing).toBeInstanceOf(BadRequestError);
    expect(missing.message).toContain("cannot change to '/no/such/repo'");
    const relative = await addWorktree({ repo: "repo" }, "/tmp/x", "b").catch((e) => e);
    expect(relative).toBeInstanceOf(BadRequestError);
    expect(relative.message).toContain("absolute path");
  });

  test("an existing branch is a 409 and nothing is created", async () => {
    const repo = newRepo();
    gitIn(repo, "branch", "taken");
    const path = join(tempDir(), "w");
    const error = await addWorktree({ repo, branch: "taken" }, path, "b").catch((e) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain('branch "taken" already exists');
    expect(existsSync(path)).toBe(false);
  });

  test("a bad branch name or base is a 400 with git's reason, leaving no branch behind", async () => {
    const repo = newRepo();
    const path = join(tempDir(), "w");
    const badName = await addWorktree({ repo, branch: "a..b" }, path, "b").catch((e) => e);
    expect(badName).toBeInstanceOf(BadRequestError);
    expect(badName.message).toContain("not a valid branch name");
    const badBase = await addWorktree({ repo, base: "no-such-ref" }, path, "b").catch((e) => e);
    expect(badBase).toBeInstanceOf(BadRequestError);
    expect(badBase.message).toContain("Needed a single revision");
    expect(branches(repo)).toEqual(["main"]);
    expect(existsSync(path)).toBe(false);
  });

  test("an existing path is a 409 and no branch is made", async () => {
    const repo = newRepo();
    const path = tempDir();
    const error = await addWorktree({ repo }, path, "agentd/x").catch((e) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(branches(repo)).toEqual(["main"]);
  });

  test("when git cannot check out, the branch it made is deleted again", async () => {
    const repo = newRepo();
    const file = join(tempDir(), "a-file");
    writeFileSync(file, "not a directory");
    const error = await addWorktree({ repo }, join(file, "w"), "agentd/fail").catch((e) => e);
    expect(error).toBeInstanceOf(GitError);
    expect(branches(repo)).toEqual(["main"]);
    expect(gitIn(repo, "worktree", "list", "--porcelain")).not.toContain("a-file");
  });

  test("removal takes the worktree and its branch away", async () => {
    const repo = newRepo();
    const path = join(tempDir(), "w");
    const worktree = await addWorktree({ repo }, path, "agentd/rm");
    expect(await removeWorktree(worktree)).toEqual({ branchKept: null });
    expect(existsSync(path)).toBe(false);
    expect(branches(repo)).toEqual(["main"]);
    expect(gitIn(repo, "worktree", "list", "--porcelain")).not.toContain(path);
  });

  test("a branch checked out in another worktree is kept, and the answer says why", async () => {
    const repo = newRepo();
    const path = join(tempDir(), "w");
    const worktree = await addWorktree({ repo }, path, "agentd/shared");
    gitIn(path, "checkout", "--quiet", "--detach");
    gitIn(repo, "checkout", "--quiet", "agentd/shared");
    const outcome = await removeWorktree(worktree);
    expect(outcome.branchKept).toContain("agentd/shared");
    expect(existsSync(path)).toBe(false);
    expect(branches(repo)).toContain("agentd/shared");
  });

  test("many worktrees of one repository are added and removed at once without tripping git's locks", async () => {
    const repo = newRepo();
    const root = tempDir();
    const ids = Array.from({ length: 16 }, (_, i) => `agent-${i}`);
    const worktrees = await Promise.all(
      ids.map((id) => addWorktree({ repo }, join(root, id), `agentd/${id}`)),
    );
    expect(branches(repo).sort()).toEqual(["main", ...ids.map((id) => `agentd/${id}`)].sort());
    const outcomes = await Promise.all(worktrees.map((worktree) => removeWorktree(worktree)));
    expect(outcomes.every((outcome) => outcome.branchKept === null)).toBe(true);
    expect(branches(repo)).toEqual(["main"]);
  });
});
