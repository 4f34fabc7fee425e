import type { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  type AgentRecord,
  deleteAgent,
  getAgent,
  incrementAgentTurns,
  insertAgent,
  listAgentPage,
  listAgents,
  restoreAgent,
  updateAgent,
} from "../../src/store/agents.ts";
import { openDatabase } from "../../src/store/db.ts";
import { Transactions } from "../../src/store/transactions.ts";
import { insertWorkspace, recordWorkspaceSize } from "../../src/store/workspaces.ts";
import { sampleAgent } from "../helpers/store.ts";
import { tempDir } from "../helpers/tmp.ts";

/**
 * The list of agents kept in memory once read is the store's list at every read after: every
 * write of an agent's row (or its workspace's) shows, a rolled-back one never does.
 */

function freshDb(): Database {
  return openDatabase(join(tempDir(), "agentd.db"));
}

/** Every agent through the kept list, a page of `limit` at a time. */
function pagedList(db: Database, limit = 2): AgentRecord[] {
  const agents: AgentRecord[] = [];
  for (;;) {
    const page = listAgentPage(db, { limit, after: agents.at(-1) });
    agents.push(...page.agents);
    if (!page.more) return agents;
  }
}

/** The kept list agrees with the store's own, read with SQL. */
function expectListTrue(db: Database): void {
  expect(pagedList(db)).toEqual(listAgents(db));
}

describe("the kept list of agents", () => {
  test("shows every write made after it was read: changes, workspaces, removals, new agents", () => {
    const db = freshDb();
    for (const id of ["a-1", "a-2", "a-3"]) insertAgent(db, sampleAgent(id));
    expectListTrue(db);
    updateAgent(db, "a-2", { status: "running", model: "m2" });
    insertWorkspace(db, {
      agent_id: "a-3",
      kind: "dir",
      path: "/w/a-3",
      repo: null,
      branch: null,
      base: null,
    });
    recordWorkspaceSize(db, "a-3", 42);
    deleteAgent(db, "a-1");
    insertAgent(db, sampleAgent("a-4"));
    expectListTrue(db);
    expect(pagedList(db).map((agent) => [agent.id, agent.model])).toEqual([
      ["a-2", "m2"],
      ["a-3", "m1"],
      ["a-4", "m1"],
    ]);
    expect(getAgent(db, "a-3")?.workspace?.size_bytes).toBe(42);
    db.close();
  });

  test("an agent restored with an old creation time takes its place by creation, not last", () => {
    const db = freshDb();
    insertAgent(db, sampleAgent("b-new"));
    expectListTrue(db);
    restoreAgent(db, {
      ...sampleAgent("b-old"),
      title: null,
      summary: null,
      error: null,
      cost_micro_usd: null,
      created_at: "2020-01-01T00:00:00.000Z",
      started_at: null,
      completed_at: null,
      updated_at: "2020-01-01T00:00:00.000Z",
    });
    expectListTrue(db);
    expect(pagedList(db).map((agent) => agent.id)).toEqual(["b-old", "b-new"]);
    db.close();
  });

  test("a write rolled back never shows, and filters page through the kept list", () => {
    const db = freshDb();
    for (const id of ["c-1", "c-2", "c-3"]) insertAgent(db, sampleAgent(id));
    expectListTrue(db);
    expect(() =>
      db.transaction(() => {
        updateAgent(db, "c-1", { status: "failed" });
        insertAgent(db, sampleAgent("c-9"));
        // Inside the transaction the list is what the transaction sees.
        expect(listAgentPage(db, { limit: 10, status: "failed" }).agents.map((a) => a.id)).toEqual([
          "c-1",
        ]);
        throw new Error("roll back");
      })(),
    ).toThrow("roll back");
    expectListTrue(db);
    expect(listAgentPage(db, { limit: 10, status: "failed" })).toEqual({ agents: [], more: false });
    updateAgent(db, "c-3", { status: "failed" });
    updateAgent(db, "c-1", { status: "failed" });
    const first = listAgentPage(db, { limit: 1, status: "failed" });
    expect(first.agents.map((agent) => agent.id)).toEqual(["c-1"]);
    expect(first.more).toBe(true);
    const second = listAgentPage(db, { limit: 1, status: "failed", after: first.agents[0] });
    expect(second).toMatchObject({ agents: [{ id: "c-3" }], more: false });
    db.close();
  });
});

function setup() {
  const db = openDatabase(join(tempDir(), "agentd.db"));
  insertAgent(db, sampleAgent("a-1"));
  return { db, transactions: new Transactions(db) };
}

/** The agent as the store holds it, read past any kept record (listAgents always queries). */
function stored(db: Database, id: string): AgentRecord | undefined {
  return listAgents(db).find((agent) => agent.id === id);
}

class Undone extends Error {}

describe("kept agent records", () => {
  test("a record written is the record the store holds, inside the transaction and after its commit", () => {
    const { db, transactions } = setup();
    getAgent(db, "a-1");
    transactions.run(() => {
      const running = updateAgent(db, "a-1", { status: "running", pid: 42 });
      incrementAgentTurns(db, "a-1");
      expect(getAgent(db, "a-1")).toEqual(stored(db, "a-1") as AgentRecord);
      expect(running).toMatchObject({ status: "running", pid: 42, turns: 0 });
    });
    expect(getAgent(db, "a-1")).toEqual(stored(db, "a-1") as AgentRecord);
    expect(getAgent(db, "a-1")).toMatchObject({ status: "running", pid: 42, turns: 1 });
  });

  test("a workspace recorded is part of its agent's record, as the store joins them", () => {
    const { db, transactions } = setup();
    transactions.run(() => {
      getAgent(db, "a-1");
      insertWorkspace(db, {
        agent_id: "a-1",
        kind: "dir",
        path: "/w/a-1",
        repo: null,
        branch: null,
        base: null,
      });
      expect(JSON.stringify(getAgent(db, "a-1"))).toBe(JSON.stringify(stored(db, "a-1")));
    });
    expect(getAgent(db, "a-1")?.workspace).toMatchObject({ kind: "dir", path: "/w/a-1" });
    expect(JSON.stringify(getAgent(db, "a-1"))).toBe(JSON.stringify(stored(db, "a-1")));
  });

  test("what a rolled-back transaction read or wrote is forgotten", () => {
    const { db, transactions } = setup();
    const before = getAgent(db, "a-1");
    expect(() =>
      transactions.run(() => {
        updateAgent(db, "a-1", { status: "running" });
        expect(getAgent(db, "a-1")?.status).toBe("running");
        throw new Undone();
      }),
    ).toThrow(Undone);
    expect(getAgent(db, "a-1")).toEqual(before as AgentRecord);
    expect(transactions.run(() => getAgent(db, "a-1"))).toEqual(before as AgentRecord);
    expect(stored(db, "a-1")?.status).toBe("pending");
  });

  test("what a rolled-back savepoint wrote is forgotten; the transaction around it commits", () => {
    const { db, transactions } = setup();
    getAgent(db, "a-1");
    transactions.run(() => {
      updateAgent(db, "a-1", { summary: "kept" });
      expect(() =>
        transactions.run(() => {
          updateAgent(db, "a-1", { status: "failed", summary: "undone" });
          getAgent(db, "a-1");
          throw new Undone();
        }),
      ).toThrow(Undone);
      expect(getAgent(db, "a-1")).toMatchObject({ status: "pending", summary: "kept" });
    });
    expect(getAgent(db, "a-1")).toEqual(stored(db, "a-1") as AgentRecord);
    expect(getAgent(db, "a-1")).toMatchObject({ status: "pending", summary: "kept" });
  });

  test("arrays and objects written are read back: the kept record shares none with the caller", () => {
    const { db } = setup();
    getAgent(db, "a-1");
    const env = { K: "new" };
    const updated = updateAgent(db, "a-1", { env });
    env.K = "changed later";
    expect(updated?.env).toEqual({ K: "new" });
    expect(getAgent(db, "a-1")?.env).toEqual({ K: "new" });
  });

  test("an update of an agent that is gone is null, and forgets it", () => {
    const { db } = setup();
    getAgent(db, "a-1");
    deleteAgent(db, "a-1");
    expect(updateAgent(db, "a-1", { status: "idle" })).toBeNull();
    expect(getAgent(db, "a-1")).toBeNull();
  });
});
