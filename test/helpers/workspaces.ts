import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { insertAgent, updateAgent } from "../../src/store/agents.ts";
import { openDatabase } from "../../src/store/db.ts";
import { insertWorkspace } from "../../src/store/workspaces.ts";
import { createManagedDir } from "../../src/workspace/managed-dir.ts";
import { addWorktree } from "../../src/workspace/worktree.ts";
import { commitFile, newRepo } from "./git.ts";
import { sampleAgent } from "./store.ts";

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();

/**
 * Finished agents with workspaces in a daemon's database, written before the daemon starts:
 * `old` (a directory unused for 10 days), `recent` (2 days), and `risky` (a worktree unused for
 * 10 days holding an unmerged commit).
 */
export async function seedWorkspaces(dbPath: string, root: string) {
  const db = openDatabase(dbPath);
  const agent = (id: string) => {
    insertAgent(db, sampleAgent(id));
    updateAgent(db, id, { status: "stopped" });
  };
  const dir = (id: string, idleDays: number) => {
    agent(id);
    const path = createManagedDir(root, id);
    writeFileSync(join(path, "notes.txt"), "x".repeat(2000));
    insertWorkspace(db, {
      agent_id: id,
      kind: "dir",
      path,
      repo: null,
      branch: null,
      base: null,
      size_bytes: 8192,
      accessed_at: daysAgo(idleDays),
    });
    return path;
  };
  const old = dir("old", 10);
  const recent = dir("recent", 2);
  agent("risky");
  const repo = newRepo();
  const risky = await addWorktree({ repo }, join(root, "risky"), "agentd/risky");
  const sha = commitFile(risky.path, "work.txt", "work\n", "unmerged work");
  insertWorkspace(db, { agent_id: "risky", kind: "worktree", ...risky, accessed_at: daysAgo(10) });
  db.close();
  return { old, recent, risky, repo, sha };
}
