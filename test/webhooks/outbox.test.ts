import type { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "../../src/store/db.ts";
import { type DeliveryRecord, listDeliveries } from "../../src/store/webhooks.ts";
import { type OutboxOptions, retryDelayMs, WebhookOutbox } from "../../src/webhooks/outbox.ts";
import {
  closedPort,
  type Reply,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../fixtures/webhook-receiver.ts";
import { tempDir } from "../helpers/tmp.ts";
import { waitFor } from "../helpers/wait.ts";

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function database(): Database {
  const db = openDatabase(join(tempDir("agentd-outbox-"), "agentd.db"));
  cleanups.push(() => db.close());
  return db;
}

function receiver(reply?: Reply): WebhookReceiver {
  const started = startWebhookReceiver({ reply });
  cleanups.push(() => started.stop());
  return started;
}

function outbox(db: Database, options: Partial<OutboxOptions> = {}): WebhookOutbox {
  const box = new WebhookOutbox(db, { secret: null, retryBaseMs: 20, ...options });
  cleanups.push(() => box.stop());
  return box;
}

function enqueueIdle(box: WebhookOutbox, url: string): string {
  return box.enqueue(url, {
    event: "idle",
    agent_id: "agent-1",
    turn_id: "turn-1",
    summary: "done",
    cost_micro_usd: 15000,
    cost_cents: 1.5,
    error: null,
  });
}

function settled(db: Database): Promise<DeliveryRecord> {
  return waitFor("the delivery to settle", () => {
    const row = listDeliveries(db, "agent-1")[0];
    return row?.status !== "pending" && row;
  });
}

describe("webhook outbox", () => {
  test("finished deliveries older than a week are forgotten at start; pending ones never", async () => {
    const db = database();
    const weekAgo = new Date(Date.now() - 8 * 24 * 3_600_000).toISOString();
    const rows = [
      ["old-done", "delivered", weekAgo],
      ["old-failed", "failed", weekAgo],
      ["old-pending", "pending", weekAgo],
      ["new-done", "delivered", new Date().toISOString()],
    ];
    for (const [id, status, at] of rows) {
      db.run(
        `INSERT INTO webhook_deliveries (id, agent_id, url, event, body, status, next_attempt_at, created_at, delivered_at)
         VALUES (?, 'agent-1', 'http://127.0.0.1:1/', 'idle', '{}', ?, ?, ?, ?)`,
        [
          id as string,
          status as string,
          Date.now() + 3_600_000,
          at as string,
          status === "delivered" ? (at as string) : null,
        ],
      );
    }
    outbox(db).start();
    expect(
      listDeliveries(db, "agent-1")
        .map((row) => row.id)
        .sort(),
    ).toEqual(["new-done", "old-pending"]);
  });

  test("retries wait the base delay, then 3x longer each time, capped at an hour", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((attempts) => retryDelayMs(attempts, 1000))).toEqual([
      1000, 3000, 9000, 27000, 81000, 243000, 729000,
    ]);
    expect(retryDelayMs(20, 1000)).toBe(3_600_000);
  });

  test("a receiver that keeps failing gets maxAttempts attempts with backoff, then the delivery fails", async () => {
    const db = database();
    const failing = receiver(() => 500);
    const box = outbox(db, { maxAttempts: 3 });
    box.start();
    const id = enqueueIdle(box, failing.url);
    const row = await settled(db);
    expect(row).toMatchObject({ id, status: "failed", attempts: 3, last_error: "HTTP 500" });
    const times = failing.received.map((hook) => hook.at);
    expect(times).toHaveLength(3);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(15);
    expect((times[2] ?? 0) - (times[1] ?? 0)).toBeGreaterThanOrEqual(55);
  });

  test("connection refused and attempt timeouts count as failed attempts", async () => {
    const db = database();
    const refusedUrl = `http://127.0.0.1:${await closedPort()}/hook`;
    const stuck = receiver(() => "hang");
    const box = outbox(db, { maxAttempts: 1, timeoutMs: 100 });
    box.start();
    enqueueIdle(box, refusedUrl);
    enqueueIdle(box, stuck.url);
    const rows = await waitFor("both deliveries to fail", () => {
      const all = listDeliveries(db, "agent-1");
      return all.every((row) => row.status === "failed") && all;
    });
    const errors = Object.fromEntries(rows.map((row) => [row.url, row.last_error ?? ""]));
    expect(errors[refusedUrl]).not.toBe("");
    expect(errors[stuck.url]).toMatch(/time/i);
  });

  test("what one outbox left pending is delivered by the next one on the same database", async () => {
    const db = database();
    const ok = receiver();
    const id = enqueueIdle(outbox(db), ok.url); // never started: stays pending
    outbox(db).start();
    expect(await settled(db)).toMatchObject({ id, status: "delivered", attempts: 1 });
    expect(ok.received.map((hook) => hook.body.delivery_id)).toEqual([id]);
  });
});
