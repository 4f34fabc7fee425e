import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { StoredEvent } from "../../src/api/events.ts";
import { EventBus } from "../../src/events/bus.ts";
import { insertAgent } from "../../src/store/agents.ts";
import { openDatabase } from "../../src/store/db.ts";
import { eventsAfter } from "../../src/store/events.ts";
import { Transactions } from "../../src/store/transactions.ts";
import { sampleAgent } from "../helpers/store.ts";
import { tempDir } from "../helpers/tmp.ts";

function busWithListener() {
  const db = openDatabase(join(tempDir(), "agentd.db"));
  insertAgent(db, sampleAgent("a-1"));
  const transactions = new Transactions(db);
  const bus = new EventBus(db, transactions, 1000);
  const heard: StoredEvent[] = [];
  bus.subscribe((event) => heard.push(event));
  return { db, transactions, bus, heard };
}

describe("event bus", () => {
  test("events recorded in a transaction reach subscribers only once it commits", () => {
    const { transactions, bus, heard } = busWithListener();
    transactions.run(() => {
      bus.record("a-1", "restart", { restarts: 1 });
      transactions.run(() => bus.record("a-1", "restart", { restarts: 2 }));
      expect(heard).toEqual([]);
    });
    expect(heard.map((event) => event.data)).toEqual([{ restarts: 1 }, { restarts: 2 }]);
  });

  test("a rolled-back transaction announces nothing and stores nothing", () => {
    const { db, transactions, bus, heard } = busWithListener();
    expect(() =>
      transactions.run(() => {
        bus.record("a-1", "restart", { restarts: 1 });
        throw new Error("disk full");
      }),
    ).toThrow("disk full");
    expect(heard).toEqual([]);
    expect(eventsAfter(db, { after: 0, limit: 10 })).toEqual([]);
  });

  test("a rolled-back inner transaction withdraws only its own announcements", () => {
    const { transactions, bus, heard } = busWithListener();
    transactions.run(() => {
      bus.record("a-1", "restart", { restarts: 1 });
      try {
        transactions.run(() => {
          bus.record("a-1", "restart", { restarts: 2 });
          throw new Error("inner");
        });
      } catch {}
    });
    expect(heard.map((event) => event.data)).toEqual([{ restarts: 1 }]);
  });

  test("outside a transaction an event is announced at once", () => {
    const { bus, heard } = busWithListener();
    bus.record("a-1", "restart", { restarts: 7 });
    expect(heard).toHaveLength(1);
  });
});

describe("retention", () => {
  function busKeeping(retention: number) {
    const db = openDatabase(join(tempDir(), "agentd.db"));
    insertAgent(db, sampleAgent("a-1"));
    insertAgent(db, sampleAgent("b-1"));
    const transactions = new Transactions(db);
    const bus = new EventBus(db, transactions, retention);
    const stored = (agentId: string) =>
      eventsAfter(db, { agentId, after: 0, limit: 1_000_000 }).map((event) => event.data);
    return { transactions, bus, stored };
  }

  test("a batch that pushes an agent past its retention prunes the oldest in the same transaction", () => {
    const { transactions, bus, stored } = busKeeping(10);
    for (let batch = 0; batch < 5; batch++) {
      transactions.run(() => {
        for (let i = 0; i < 7; i++) bus.record("a-1", "restart", { restarts: batch * 7 + i });
      });
      // Committed: never more than the retention.
      expect(stored("a-1").length).toBeLessThanOrEqual(10);
    }
    expect(stored("a-1")).toEqual(Array.from({ length: 10 }, (_, i) => ({ restarts: 25 + i })));
  });

  test("events recorded outside a transaction are pruned at once, one agent's never another's", () => {
    const { bus, stored } = busKeeping(3);
    bus.record("b-1", "restart", { restarts: 0 });
    for (let i = 0; i < 8; i++) bus.record("a-1", "restart", { restarts: i });
    expect(stored("a-1")).toEqual([{ restarts: 5 }, { restarts: 6 }, { restarts: 7 }]);
    expect(stored("b-1")).toEqual([{ restarts: 0 }]);
  });

  test("a rolled-back batch prunes nothing", () => {
    const { transactions, bus, stored } = busKeeping(3);
    for (let i = 0; i < 3; i++) bus.record("a-1", "restart", { restarts: i });
    expect(() =>
      transactions.run(() => {
        for (let i = 3; i < 6; i++) bus.record("a-1", "restart", { restarts: i });
        throw new Error("disk full");
      }),
    ).toThrow("disk full");
    expect(stored("a-1")).toEqual([{ restarts: 0 }, { restarts: 1 }, { restarts: 2 }]);
    bus.record("a-1", "restart", { restarts: 9 });
    expect(stored("a-1")).toEqual([{ restarts: 1 }, { restarts: 2 }, { restarts: 9 }]);
  });
});
