import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runGit } from "../../src/workspace/git.ts";
import { newRepo } from "../helpers/git.ts";
import { tempDir } from "../helpers/tmp.ts";

describe("running git", () => {
  test("the repository named is the one used, even when GIT_DIR points elsewhere (a git hook)", async () => {
    const repo = newRepo();
    const elsewhere = join(newRepo(), ".git");
    const saved = process.env.GIT_DIR;
    process.env.GIT_DIR = elsewhere;
    try {
      const gitDir = await runGit(repo, ["rev-parse", "--absolute-git-dir"]);
      expect(gitDir.stdout.trim()).toBe(join(repo, ".git"));
    } finally {
      if (saved === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved;
    }
  });

  test("git's message comes back in English, trimmed", async () => {
    const result = await runGit(tempDir(), ["rev-parse", "--show-toplevel"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^fatal: not a git repository/);
  });
});
