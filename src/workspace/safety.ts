import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { git, runGit } from "./git.ts";
import { branchExists } from "./worktree.ts";

export interface Commit {
  sha: string;
  subject: string;
}

/** Work in one git work tree that a removal would destroy. */
export interface WorkAtRisk {
  /** The work tree. */
  path: string;
  /** `git status --porcelain` entries: changed, staged and untracked files (`XY path`). */
  uncommitted: string[];
  /** Commits that nothing would keep after the removal. */
  unmerged_commits: Commit[];
}

/**
 * What removing a worktree and deleting its branch would lose: its uncommitted files, and the
 * commits of its branch (and of its HEAD, if it was moved) that are on no other branch, tag or
 * remote-tracking branch. A branch pushed to a remote is therefore safe. Null: nothing.
 */
export async function worktreeWorkAtRisk(worktree: {
  repo: string;
  path: string;
  branch: string;
}): Promise<WorkAtRisk | null> {
  const present = existsSync(worktree.path);
  const tips = (await branchExists(worktree.repo, worktree.branch))
    ? [`refs/heads/${worktree.branch}`]
    : [];
  if (present) tips.push(...(await headCommit(worktree.path)));
  const keepers = [`--exclude=${worktree.branch}`, "--branches", "--tags", "--remotes"];
  return atRisk({
    path: worktree.path,
    uncommitted: present ? await uncommittedFiles(worktree.path) : [],
    unmerged_commits: await commitsOnlyIn(worktree.repo, tips, keepers),
  });
}

/**
 * What deleting a directory agentd made would lose. The agent may have cloned or initialised
 * repositories there: those at its top or one level down are checked for uncommitted files and
 * for commits that no remote has (a repository deleted whole takes its branches and tags along).
 */
export async function directoryWorkAtRisk(dir: string): Promise<WorkAtRisk[]> {
  const risks: WorkAtRisk[] = [];
  for (const workTree of await repositoriesIn(dir)) {
    const risk = await repositoryWorkAtRisk(workTree);
    if (risk) risks.push(risk);
  }
  return risks;
}

async function repositoryWorkAtRisk(workTree: string): Promise<WorkAtRisk | null> {
  const dirs = await git(workTree, [
    "rev-parse",
    "--path-format=absolute",
    "--git-dir",
    "--git-common-dir",
  ]);
  const [gitDir, commonDir] = dirs.trim().split("\n");
  // A linked worktree of a repository elsewhere: its branches live on in that repository.
  const linked = gitDir !== commonDir;
  const unmerged = linked
    ? await commitsOnlyIn(workTree, await headCommit(workTree), [
        "--branches",
        "--tags",
        "--remotes",
      ])
    : await commitsOnlyIn(workTree, ["--all"], ["--remotes"]);
  return atRisk({
    path: workTree,
    uncommitted: await uncommittedFiles(workTree),
    unmerged_commits: unmerged,
  });
}

/** `dir` and its subdirectories that are the top of a git work tree. */
async function repositoriesIn(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const children = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(dir, entry.name));
  const found: string[] = [];
  for (const candidate of [dir, ...children]) {
    if (!existsSync(join(candidate, ".git"))) continue;
    const top = await runGit(candidate, ["rev-parse", "--show-toplevel"]);
    if (top.code === 0) found.push(candidate);
  }
  return found;
}

/**
 * Uncommitted and untracked files (ignored ones are not work: git itself removes them with a
 * worktree). A directory git cannot read any more is reported whole.
 */
async function uncommittedFiles(workTree: string): Promise<string[]> {
  const status = await runGit(workTree, [
    "status",
    "--porcelain=v1",
    "-z",
    "--untracked-files=normal",
  ]);
  if (status.code !== 0) {
    return [`?? ${workTree} (git status failed, so all of it: ${status.stderr})`];
  }
  return parsePorcelain(status.stdout);
}

/** `XY path\0`, where a rename or copy is followed by its source: `XY to\0from\0`. */
export function parsePorcelain(output: string): string[] {
  const fields = output.split("\0");
  const entries: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as string;
    if (field === "") continue;
    const code = field.slice(0, 2);
    if (code.includes("R") || code.includes("C")) {
      entries.push(`${code} ${fields[i + 1]} -> ${field.slice(3)}`);
      i++;
    } else {
      entries.push(field);
    }
  }
  return entries;
}

async function headCommit(workTree: string): Promise<string[]> {
  const head = await runGit(workTree, ["rev-parse", "--verify", "--quiet", "HEAD"]);
  return head.code === 0 ? [head.stdout.trim()] : [];
}

/** Commits reachable from `tips` and from none of `keepers` (rev-list options or refs). */
async function commitsOnlyIn(gitDir: string, tips: string[], keepers: string[]): Promise<Commit[]> {
  if (tips.length === 0) return [];
  const output = await git(gitDir, [
    "log",
    "--format=%H%x1f%s",
    ...tips,
    "--not",
    ...keepers,
    "--",
  ]);
  return output
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [sha = "", subject = ""] = line.split("\x1f");
      return { sha, subject };
    });
}

function atRisk(risk: WorkAtRisk): WorkAtRisk | null {
  return risk.uncommitted.length === 0 && risk.unmerged_commits.length === 0 ? null : risk;
}

/** One line for people: what would be lost, and where. */
export function describeWorkAtRisk(risks: WorkAtRisk[]): string {
  return risks
    .map((risk) => {
      const parts: string[] = [];
      if (risk.uncommitted.length > 0) {
        parts.push(
          `${count(risk.uncommitted.length, "uncommitted file")} (${sample(risk.uncommitted)})`,
        );
      }
      if (risk.unmerged_commits.length > 0) {
        const commits = risk.unmerged_commits.map((c) => `${c.sha.slice(0, 12)} ${c.subject}`);
        parts.push(
          `${count(commits.length, "commit")} on no other branch or remote (${sample(commits)})`,
        );
      }
      return `${risk.path}: ${parts.join(", ")}`;
    })
    .join("; ");
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function sample(items: string[]): string {
  const shown = items.slice(0, 5).join(", ");
  return items.length > 5 ? `${shown}, …` : shown;
}
