import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { StoredEvent } from "../../src/api/events.ts";
import { insertAgent } from "../../src/store/agents.ts";
import { openDatabase } from "../../src/store/db.ts";
import {
  appendEvents,
  countEvents,
  eventsAfter,
  latestEventSeq,
  pruneOldestEvents,
} from "../../src/store/events.ts";
import { MIGRATIONS } from "../../src/store/migrations.ts";
import { sampleAgent } from "../helpers/store.ts";
import { tempDir } from "../helpers/tmp.ts";

const BATCHES = MIGRATIONS.findIndex((migration) =>
  migration.includes("CREATE TABLE event_batches"),
);

function withAgents(...ids: string[]): Database {
  const db = openDatabase(join(tempDir(), "agentd.db"));
  for (const id of ids) insertAgent(db, sampleAgent(id));
  return db;
}

function restarts(agentId: string, from: number, count: number): StoredEvent[] {
  return Array.from(
    { length: count },
    (_, i) =>
      ({
        seq: 0,
        agent_id: agentId,
        type: "restart",
        data: { restarts: from + i },
        created_at: "2026-01-01T00:00:00.000Z",
      }) as StoredEvent,
  );
}

function batchRows(db: Database): number {
  return db.query<{ n: number }, []>("SELECT count(*) AS n FROM event_batches").get()?.n ?? 0;
}

describe("events stored a batch to a row", () => {
  test("each run of one agent's events is one row; every event gets the next seq, in order", () => {
    const db = withAgents("a", "b");
    const events = [...restarts("a", 0, 3), ...restarts("b", 3, 2), ...restarts("a", 5, 1)];
    appendEvents(db, events);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(batchRows(db)).toBe(3);
    expect(eventsAfter(db, { after: 0, limit: 100 })).toEqual(events);
    expect(eventsAfter(db, { agentId: "a", after: 1, limit: 100 }).map((e) => e.seq)).toEqual([
      2, 3, 6,
    ]);
    expect(eventsAfter(db, { after: 2, limit: 2 }).map((e) => e.seq)).toEqual([3, 4]);
    expect(countEvents(db, "a")).toBe(4);
    expect(latestEventSeq(db)).toBe(6);
  });

  test("the view events shows one row per event, as the table did", () => {
    const db = withAgents("a");
    appendEvents(db, restarts("a", 7, 3));
    pruneOldestEvents(db, "a", 1);
    const rows = db
      .query<{ seq: number; type: string; data: string }, []>(
        "SELECT seq, type, data FROM events ORDER BY seq",
      )
      .all();
    expect(rows).toEqual([
      { seq: 2, type: "restart", data: '{"restarts":8}' },
      { seq: 3, type: "restart", data: '{"restarts":9}' },
    ]);
  });

  test("a prune takes exactly the oldest: whole batches, and the front of the one it cuts", () => {
    const db = withAgents("a", "b");
    appendEvents(db, restarts("a", 0, 4));
    appendEvents(db, restarts("b", 0, 2));
    appendEvents(db, restarts("a", 4, 4));
    pruneOldestEvents(db, "a", 5);
    expect(countEvents(db, "a")).toBe(3);
    expect(eventsAfter(db, { agentId: "a", after: 0, limit: 100 }).map((e) => e.seq)).toEqual([
      8, 9, 10,
    ]);
    expect(countEvents(db, "b")).toBe(2);
    pruneOldestEvents(db, "a", 3);
    expect(countEvents(db, "a")).toBe(0);
    expect(batchRows(db)).toBe(1);
  });

  test("no seq is handed out twice, even after the newest events were deleted", () => {
    const db = withAgents("a");
    appendEvents(db, restarts("a", 0, 3));
    pruneOldestEvents(db, "a", 3);
    const next = restarts("a", 3, 1);
    appendEvents(db, next);
    expect(next[0]?.seq).toBe(4);
  });

  test("events stored one to a row before the migration keep their seqs; new ones follow the highest ever", () => {
    const path = join(tempDir(), "agentd.db");
    const old = new Database(path, { create: true, strict: true });
    for (const migration of MIGRATIONS.slice(0, BATCHES)) old.run(migration);
    old.run(`PRAGMA user_version = ${BATCHES}`);
    insertAgent(old, sampleAgent("a"));
    const insert = old.query(
      "INSERT INTO events (agent_id, type, data, created_at) VALUES ('a', 'restart', ?, '2026-01-01T00:00:00.000Z')",
    );
    for (const n of [1, 2, 3]) insert.run(JSON.stringify({ restarts: n }));
    old.run("DELETE FROM events WHERE seq = 3");
    old.close();
    const db = openDatabase(path);
    expect(eventsAfter(db, { after: 0, limit: 10 })).toEqual([
      {
        seq: 1,
        agent_id: "a",
        type: "restart",
        data: { restarts: 1 },
        created_at: "2026-01-01T00:00:00.000Z",
      },
      {
        seq: 2,
        agent_id: "a",
        type: "restart",
        data: { restarts: 2 },
        created_at: "2026-01-01T00:00:00.000Z",
      },
    ] as StoredEvent[]);
    const next = restarts("a", 4, 1);
    appendEvents(db, next);
    expect(next[0]?.seq).toBe(4);
  });
});
