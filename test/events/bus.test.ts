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
