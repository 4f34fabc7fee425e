import type { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  type AgentRecord,
  deleteAgent,
  getAgent,
  incrementAgentTurns,
  insertAgent,
  listAgents,
  updateAgent,
} from "../../src/store/agents.ts";
import { openDatabase } from "../../src/store/db.ts";
import { Transactions } from "../../src/store/transactions.ts";
import { insertWorkspace } from "../../src/store/workspaces.ts";
import { sampleAgent } from "../helpers/store.ts";
import { tempDir } from "../helpers/tmp.ts";

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
