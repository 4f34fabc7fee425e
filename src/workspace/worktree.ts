import { chmodSync, existsSync } from "node:fs";
import { isAbsolute } from "node:path";
import { BadRequestError, ConflictError } from "../errors.ts";
import { GitError, git, runGit } from "./git.ts";
import { workspaceExists } from "./managed-dir.ts";
import { inTurn } from "./repository-queue.ts";

/** What a request asks for: `git worktree add -b BRANCH PATH BASE` in REPO. */
export interface WorktreeSpec {
  repo: string;
  /** A commit-ish in the repository; HEAD when absent. */
  base?: string | undefined;
  /** The branch to create; the caller's default (agentd/<id>) when absent. */
  branch?: string | undefined;
}

/** A worktree agentd added. */
export interface Worktree {
  path: string;
  /** The repository's top-level directory. */
  repo: string;
  branch: string;
  /** The base as asked, or the branch (else commit) HEAD was on. */
  base: string;
}

/**
 * Add a worktree at `path` on a new branch. Bad input is a 400 carrying git's own message, an
 * existing branch or path a 409; on failure nothing is left behind.
 */
export async function addWorktree(
  spec: WorktreeSpec,
  path: string,
  defaultBranch: string,
): Promise<Worktree> {
  const { top: repo, gitDir } = await workTreeOf(spec.repo);
  return inTurn(gitDir, async () => {
    const branch = await checkNewBranch(repo, spec.branch ?? defaultBranch);
    const { commit, base } = await resolveBase(repo, spec.base);
    if (existsSync(path)) throw workspaceExists(path);
    const added = await runGit(repo, ["worktree", "add", "--quiet", "-b", branch, path, commit]);
    if (added.code !== 0) {
      await undoFailedAdd(repo, branch, commit);
      throw new GitError(`git worktree add in ${repo} failed: ${added.stderr}`);
    }
    chmodSync(path, 0o700);
    return { path, repo, branch, base };
  });
}

/**
 * The top-level directory of the work tree `dir` is in, and the repository's git directory
 * (shared by all its worktrees); a 400 with git's reason when `dir` is in no work tree.
 */
async function workTreeOf(dir: string): Promise<{ top: string; gitDir: string }> {
  if (!isAbsolute(dir)) {
    throw new BadRequestError(`worktree.repo must be an absolute path, got "${dir}"`);
  }
  const result = await runGit(dir, [
    "rev-parse",
    "--path-format=absolute",
    "--show-toplevel",
    "--git-common-dir",
  ]);
  if (result.code !== 0) {
    throw new BadRequestError(`worktree.repo ${dir} is not a git work tree: ${result.stderr}`);
  }
  const [top = "", gitDir = ""] = result.stdout.trim().split("\n");
  return { top, gitDir };
}

async function checkNewBranch(repo: string, branch: string): Promise<string> {
  const format = await runGit(repo, ["check-ref-format", "--branch", branch]);
  if (format.code !== 0) {
    throw new BadRequestError(`worktree.branch "${branch}" is not usable: ${format.stderr}`);
  }
  if (await branchExists(repo, branch)) {
    throw new ConflictError(
      `branch "${branch}" already exists in ${repo}; name another worktree.branch`,
    );
  }
  return branch;
}

async function resolveBase(
  repo: string,
  asked: string | undefined,
): Promise<{ commit: string; base: string }> {
  const ref = asked ?? "HEAD";
  const resolved = await runGit(repo, [
    "rev-parse",
    "--verify",
    "--end-of-options",
    `${ref}^{commit}`,
  ]);
  if (resolved.code !== 0) {
    throw new BadRequestError(
      `worktree.base "${ref}" is not a commit in ${repo}: ${resolved.stderr}`,
    );
  }
  const commit = resolved.stdout.trim();
  if (asked !== undefined) return { commit, base: asked };
  const head = await runGit(repo, ["symbolic-ref", "--quiet", "--short", "HEAD"]);
  return { commit, base: head.code === 0 ? head.stdout.trim() : commit };
}

export async function branchExists(repo: string, branch: string): Promise<boolean> {
  const result = await runGit(repo, ["show-ref", "--verify", "--quiet", `refs/heads/${branch}`]);
  return result.code === 0;
}

/**
 * `git worktree add -b` makes the branch before checking out; when the checkout fails the branch
 * stays. It is deleted only while it still points at the base, where it holds nothing of anyone's.
 */
async function undoFailedAdd(repo: string, branch: string, commit: string): Promise<void> {
  await runGit(repo, ["worktree", "prune"]);
  const tip = await runGit(repo, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`]);
  if (tip.code === 0 && tip.stdout.trim() === commit) {
    await runGit(repo, ["branch", "-D", branch]);
  }
}

/**
 * Remove the worktree and delete its branch. The caller has decided that nothing of value would
 * be lost (or was told to go ahead): this forces git past its own checks. A branch git refuses to
 * delete (someone checked it out in another worktree) is kept: the answer says why.
 */
export async function removeWorktree(
  worktree: Omit<Worktree, "base">,
): Promise<{ branchKept: string | null }> {
  const { repo, path, branch } = worktree;
  const gitDir = (
    await git(repo, ["rev-parse", "--path-format=absolute", "--git-common-dir"])
  ).trim();
  return inTurn(gitDir, async () => {
    if (existsSync(path)) {
      // Twice --force: also a worktree that was locked.
      await git(repo, ["worktree", "remove", "--force", "--force", path]);
    }
    await git(repo, ["worktree", "prune"]);
    if (!(await branchExists(repo, branch))) return { branchKept: null };
    const deleted = await runGit(repo, ["branch", "-D", branch]);
    return { branchKept: deleted.code === 0 ? null : deleted.stderr };
  });
}
