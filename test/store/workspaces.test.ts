import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { getAgent, insertAgent, updateAgent } from "../../src/store/agents.ts";
import { openDatabase } from "../../src/store/db.ts";
import { MIGRATIONS } from "../../src/store/migrations.ts";
import {
  getWorkspace,
  getWorkspaceListing,
  insertWorkspace,
  listWorkspaces,
  markWorkspaceRemoved,
  recordWorkspaceSize,
  touchWorkspace,
} from "../../src/store/workspaces.ts";
import { sampleAgent } from "../helpers/store.ts";
import { tempDir } from "../helpers/tmp.ts";

function freshDb(): Database {
  return openDatabase(join(tempDir(), "agentd.db"));
}

const worktree = {
  kind: "worktree" as const,
  path: "/w/a-1",
  repo: "/r",
  branch: "agentd/a-1",
  base: "main",
};

describe("workspace records", () => {
  test("round-trip, start active and last used when created, and go with their agent", () => {
    const db = freshDb();
    insertAgent(db, sampleAgent("a-1"));
    const record = insertWorkspace(db, { agent_id: "a-1", ...worktree });
    expect(record).toMatchObject({ ...worktree, status: "active", size_bytes: null });
    expect(record.accessed_at).toBe(record.created_at);
    expect(getWorkspace(db, "a-1")).toEqual(record);
    db.run("DELETE FROM agents WHERE id = 'a-1'");
    expect(getWorkspace(db, "a-1")).toBeNull();
    db.close();
  });

  test("only the three kinds and three statuses are stored", () => {
    const db = freshDb();
    insertAgent(db, sampleAgent("a-1"));
    expect(() =>
      insertWorkspace(db, { agent_id: "a-1", ...worktree, kind: "tmp" as "dir" }),
    ).toThrow(/CHECK constraint/);
    expect(() =>
      insertWorkspace(db, { agent_id: "a-1", ...worktree, status: "gone" as "removed" }),
    ).toThrow(/CHECK constraint/);
    db.close();
  });

  test("are listed with their agent's status", () => {
    const db = freshDb();
    insertAgent(db, sampleAgent("a-1"));
    insertAgent(db, sampleAgent("a-2"));
    updateAgent(db, "a-2", { status: "stopped" });
    insertWorkspace(db, { agent_id: "a-1", ...worktree });
    insertWorkspace(db, {
      agent_id: "a-2",
      kind: "dir",
      path: "/w/a-2",
      repo: null,
      branch: null,
      base: null,
    });
    expect(listWorkspaces(db).map((w) => [w.agent_id, w.kind, w.agent_status])).toEqual([
      ["a-1", "worktree", "pending"],
      ["a-2", "dir", "stopped"],
    ]);
    expect(getWorkspaceListing(db, "a-2")?.agent_status).toBe("stopped");
    expect(getWorkspaceListing(db, "nope")).toBeNull();
    db.close();
  });

  test("a size is recorded, a missing directory marks it missing, a removed one stays removed", async () => {
    const db = freshDb();
    insertAgent(db, sampleAgent("a-1"));
    const created = insertWorkspace(db, { agent_id: "a-1", ...worktree });
    recordWorkspaceSize(db, "a-1", 4096);
    expect(getWorkspace(db, "a-1")).toMatchObject({ size_bytes: 4096, status: "active" });
    recordWorkspaceSize(db, "a-1", null);
    expect(getWorkspace(db, "a-1")).toMatchObject({ size_bytes: null, status: "missing" });
    markWorkspaceRemoved(db, "a-1");
    recordWorkspaceSize(db, "a-1", 10);
    expect(getWorkspace(db, "a-1")).toMatchObject({ size_bytes: null, status: "removed" });
    await Bun.sleep(2);
    touchWorkspace(db, "a-1");
    expect((getWorkspace(db, "a-1")?.accessed_at ?? "") > created.accessed_at).toBe(true);
    db.close();
  });

  test("rows of the first schema get a kind from their managed flag and repository", () => {
    const path = join(tempDir(), "agentd.db");
    const v1 = new Database(path, { create: true, strict: true });
    v1.run(MIGRATIONS[0] as string);
    v1.run("PRAGMA user_version = 1");
    const agent = (id: string) =>
      `INSERT INTO agents (id, name, mode, protocol, status, provider, model, cwd, created_at, updated_at)
       VALUES ('${id}', 'n', 'run', 'omni', 'stopped', 'p', 'm', '/', 't0', 't0')`;
    const workspace = (id: string, managed: number, repo: string | null, accessed: string | null) =>
      `INSERT INTO workspaces (agent_id, path, managed, repo, status, created_at, accessed_at)
       VALUES ('${id}', '/w/${id}', ${managed}, ${repo === null ? "NULL" : `'${repo}'`}, 'idle', 't0', ${accessed === null ? "NULL" : `'${accessed}'`})`;
    for (const id of ["dir", "tree", "ext"]) v1.run(agent(id));
    v1.run(workspace("dir", 1, null, null));
    v1.run(workspace("tree", 1, "/r", "t1"));
    v1.run(workspace("ext", 0, null, null));
    v1.close();
    const db = openDatabase(path);
    expect(listWorkspaces(db).map((w) => [w.agent_id, w.kind, w.status, w.accessed_at])).toEqual([
      ["dir", "dir", "active", "t0"],
      ["ext", "external", "active", "t0"],
      ["tree", "worktree", "active", "t1"],
    ]);
    db.close();
  });

  test("a workspace named in an agent row of the second schema becomes an external record", () => {
    const path = join(tempDir(), "agentd.db");
    const v2 = new Database(path, { create: true, strict: true });
    v2.run(MIGRATIONS[0] as string);
    v2.run(MIGRATIONS[1] as string);
    v2.run("PRAGMA user_version = 2");
    const agent = (id: string, workspace: string | null) =>
      v2
        .query(
          `INSERT INTO agents (id, name, mode, protocol, status, provider, model, cwd, workspace, created_at, updated_at)
           VALUES (?, 'n', 'run', 'omni', 'stopped', 'p', 'm', '/', ?, 't0', 't0')`,
        )
        .run(id, workspace);
    agent("named", "/w/named");
    agent("recorded", "/w/ignored");
    agent("none", null);
    v2.run(
      `INSERT INTO workspaces (agent_id, kind, path, status, created_at, accessed_at)
       VALUES ('recorded', 'dir', '/w/recorded', 'active', 't1', 't1')`,
    );
    v2.close();
    const db = openDatabase(path);
    expect(listWorkspaces(db).map((w) => [w.agent_id, w.kind, w.path, w.created_at])).toEqual([
      ["named", "external", "/w/named", "t0"],
      ["recorded", "dir", "/w/recorded", "t1"],
    ]);
    expect(getAgent(db, "named")?.workspace).toMatchObject({ kind: "external", path: "/w/named" });
    expect(getAgent(db, "none")?.workspace).toBeNull();
    db.close();
  });
});
