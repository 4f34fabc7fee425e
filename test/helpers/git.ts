import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./tmp.ts";

/** A fixed identity and no user or system config, so tests behave the same on every machine. */
const GIT_ENV = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: "/nonexistent",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
  LC_ALL: "C",
};

/** Run git in `dir`; returns stdout, throws with git's message on failure. */
export function gitIn(dir: string, ...args: string[]): string {
  const result = Bun.spawnSync(["git", "-C", dir, ...args], { env: GIT_ENV });
  if (result.exitCode !== 0) {
    throw new Error(`git ${args.join(" ")} failed: ${result.stderr.toString()}`);
  }
  return result.stdout.toString().trim();
}

/** A fresh repository on branch main with one commit (README). */
export function newRepo(): string {
  const repo = join(tempDir("agentd-repo-"), "repo");
  gitIn(tempDir(), "init", "--quiet", "--initial-branch=main", repo);
  commitFile(repo, "README", "hello\n", "initial");
  return repo;
}

/** Write a file and commit it; returns the new commit's sha. */
export function commitFile(dir: string, file: string, content: string, message: string): string {
  writeFileSync(join(dir, file), content);
  gitIn(dir, "add", "--", file);
  gitIn(dir, "commit", "--quiet", "-m", message);
  return gitIn(dir, "rev-parse", "HEAD");
}

/** A bare repository set up as `origin` of `repo`. */
export function addBareRemote(repo: string): string {
  const bare = join(tempDir("agentd-remote-"), "remote.git");
  gitIn(tempDir(), "init", "--quiet", "--bare", bare);
  gitIn(repo, "remote", "add", "origin", bare);
  return bare;
}
