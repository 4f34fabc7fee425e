import type { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BadRequestError, ConflictError } from "../../src/errors.ts";
import { deleteAgent, insertAgent, updateAgent } from "../../src/store/agents.ts";
import { openDatabase } from "../../src/store/db.ts";
import { getWorkspace } from "../../src/store/workspaces.ts";
import { AgentWorkspaces } from "../../src/workspace/agent-workspaces.ts";
import { WorkAtRiskError } from "../../src/workspace/removal.ts";
import { commitFile, gitIn, newRepo } from "../helpers/git.ts";
import { sampleAgent } from "../helpers/store.ts";
import { tempDir } from "../helpers/tmp.ts";

const opened: { db: Database; workspaces: AgentWorkspaces }[] = [];

afterEach(async () => {
  for (const { db, workspaces } of opened.splice(0)) {
    await workspaces.close();
    db.close();
  }
});

function setup() {
  const db = openDatabase(join(tempDir(), "agentd.db"));
  const root = join(tempDir(), "workspaces");
  const workspaces = new AgentWorkspaces({ db, root });
  opened.push({ db, workspaces });
  return { db, root, workspaces };
}

/** What the agent service does at creation: prepare, insert the agent with that cwd, record. */
async function createAgent(
  s: ReturnType<typeof setup>,
  id: string,
  request: Parameters<AgentWorkspaces["prepare"]>[1],
) {
  const prepared = await s.workspaces.prepare(id, request);
  insertAgent(s.db, { ...sampleAgent(id), cwd: prepared.path });
  return s.workspaces.record(id, prepared);
}

describe("agents' workspaces", () => {
  test("no cwd and no worktree: a managed directory <root>/<id> is the agent's", async () => {
    const s = setup();
    const record = await createAgent(s, "a-1", {});
    expect(record).toMatchObject({
      agent_id: "a-1",
      kind: "dir",
      path: join(s.root, "a-1"),
      status: "active",
    });
    expect(existsSync(record.path)).toBe(true);
  });

  test("a worktree request makes the agent's cwd a worktree on agentd/<id>", async () => {
    const s = setup();
    const repo = newRepo();
    const record = await createAgent(s, "a-2", { worktree: { repo } });
    expect(record).toMatchObject({
      kind: "worktree",
      path: join(s.root, "a-2"),
      repo,
      branch: "agentd/a-2",
      base: "main",
    });
    expect(gitIn(record.path, "branch", "--show-current")).toBe("agentd/a-2");
  });

  test("a cwd is used as it is: external", async () => {
    const s = setup();
    const cwd = tempDir();
    const record = await createAgent(s, "a-3", { cwd });
    expect(record).toMatchObject({ kind: "external", path: cwd, repo: null });
  });

  test("cwd and worktree together are a 400, and nothing is made", async () => {
    const s = setup();
    const repo = newRepo();
    const error = await s.workspaces
      .prepare("a-4", { cwd: tempDir(), worktree: { repo } })
      .catch((e) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(existsSync(join(s.root, "a-4"))).toBe(false);
  });

  test("a creation that fails after prepare leaves nothing behind once discarded", async () => {
    const s = setup();
    const repo = newRepo();
    const dir = await s.workspaces.prepare("a-5", {});
    const tree = await s.workspaces.prepare("a-6", { worktree: { repo } });
    await s.workspaces.discard(dir);
    await s.workspaces.discard(tree);
    expect(existsSync(dir.path)).toBe(false);
    expect(existsSync(tree.path)).toBe(false);
    expect(gitIn(repo, "branch", "--format=%(refname:short)")).toBe("main");
  });

  test("use after a turn or a stop records the time and, soon after, the size", async () => {
    const s = setup();
    const record = await createAgent(s, "a-7", {});
    writeFileSync(join(record.path, "big.bin"), Buffer.alloc(100_000));
    await Bun.sleep(2);
    s.workspaces.used("a-7");
    await s.workspaces.sizesMeasured();
    const after = getWorkspace(s.db, "a-7");
    expect(after?.size_bytes).toBeGreaterThanOrEqual(100_000);
    expect((after?.accessed_at ?? "") > record.accessed_at).toBe(true);
  });

  test("uses within a second of a noted one are noted once, when the second is over", async () => {
    const s = setup();
    const record = await createAgent(s, "u-1", {});
    await Bun.sleep(2);
    s.workspaces.used("u-1");
    const first = getWorkspace(s.db, "u-1")?.accessed_at ?? "";
    expect(first > record.accessed_at).toBe(true);
    s.workspaces.used("u-1");
    s.workspaces.used("u-1");
    expect(getWorkspace(s.db, "u-1")?.accessed_at).toBe(first);
    await s.workspaces.sizesMeasured();
    expect((getWorkspace(s.db, "u-1")?.accessed_at ?? "") > first).toBe(true);
  });

  test("a workspace deleted by hand is found missing when measured", async () => {
    const s = setup();
    const record = await createAgent(s, "a-8", {});
    rmSync(record.path, { recursive: true });
    s.workspaces.used("a-8");
    await s.workspaces.sizesMeasured();
    expect(getWorkspace(s.db, "a-8")).toMatchObject({ status: "missing", size_bytes: null });
  });

  test("a burst of uses from several agents ends with every size stored", async () => {
    const s = setup();
    for (const id of ["b-1", "b-2", "b-3"]) await createAgent(s, id, {});
    for (let i = 0; i < 20; i++) for (const id of ["b-1", "b-2", "b-3"]) s.workspaces.used(id);
    await s.workspaces.sizesMeasured();
    for (const id of ["b-1", "b-2", "b-3"]) {
      expect(getWorkspace(s.db, id)?.size_bytes).toBeGreaterThan(0);
    }
  });

  test("after closing, no size is stored and none is measured", async () => {
    const s = setup();
    const record = await createAgent(s, "a-10", {});
    writeFileSync(join(record.path, "f"), "x");
    // close() comes microseconds after du was started: long before du can have finished.
    s.workspaces.used("a-10");
    s.workspaces.used("a-10");
    await s.workspaces.close();
    expect(getWorkspace(s.db, "a-10")?.size_bytes).toBeNull();
    s.workspaces.used("a-10");
    await s.workspaces.sizesMeasured();
    expect(getWorkspace(s.db, "a-10")?.size_bytes).toBeNull();
  });

  test("delete: a dirty worktree is refused with what would be lost, then removed when forced", async () => {
    const s = setup();
    const repo = newRepo();
    const record = await createAgent(s, "a-9", { worktree: { repo } });
    const sha = commitFile(record.path, "work.txt", "w\n", "agent work");
    const atRisk = [
      { path: record.path, uncommitted: [], unmerged_commits: [{ sha, subject: "agent work" }] },
    ];
    const refusedEarly = await s.workspaces.refuseWorkAtRisk("a-9").catch((e) => e);
    expect(refusedEarly).toBeInstanceOf(WorkAtRiskError);
    expect(refusedEarly.risks).toEqual(atRisk);
    const refused = await s.workspaces.remove("a-9", { force: false }).catch((e) => e);
    expect(refused).toBeInstanceOf(WorkAtRiskError);
    expect(refused).toBeInstanceOf(ConflictError);
    expect(existsSync(record.path)).toBe(true);
    expect(getWorkspace(s.db, "a-9")?.status).toBe("active");
    expect(await s.workspaces.remove("a-9", { force: true })).toEqual({
      removed: true,
      note: null,
    });
    expect(existsSync(record.path)).toBe(false);
    expect(getWorkspace(s.db, "a-9")?.status).toBe("removed");
    deleteAgent(s.db, "a-9");
    expect(getWorkspace(s.db, "a-9")).toBeNull();
  });

  test("delete: a managed directory goes; an external cwd stays untouched", async () => {
    const s = setup();
    const dir = await createAgent(s, "c-1", {});
    const cwd = tempDir();
    writeFileSync(join(cwd, "keep.txt"), "keep");
    await createAgent(s, "c-2", { cwd });
    expect(await s.workspaces.remove("c-1", { force: false })).toEqual({
      removed: true,
      note: null,
    });
    expect(existsSync(dir.path)).toBe(false);
    const outcome = await s.workspaces.remove("c-2", { force: true });
    expect(outcome?.removed).toBe(false);
    expect(readFileSync(join(cwd, "keep.txt"), "utf8")).toBe("keep");
    expect(getWorkspace(s.db, "c-2")?.status).toBe("active");
    expect(await s.workspaces.remove("no-such-agent", { force: false })).toBeNull();
  });

  test("lists workspaces with their agents' statuses and collects garbage", async () => {
    const s = setup();
    const record = await createAgent(s, "d-1", {});
    updateAgent(s.db, "d-1", { status: "completed" });
    expect(s.workspaces.list().map((w) => [w.agent_id, w.agent_status])).toEqual([
      ["d-1", "completed"],
    ]);
    const later = new Date(Date.now() + 8 * 86_400_000);
    const report = await s.workspaces.gc({
      olderThanMs: 7 * 86_400_000,
      dryRun: false,
      now: later,
    });
    expect(report.removed.map((r) => r.agent_id)).toEqual(["d-1"]);
    expect(existsSync(record.path)).toBe(false);
  });
});
