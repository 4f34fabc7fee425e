import type { Database } from "bun:sqlite";
import { run } from "./sql.ts";
import { nowIso } from "./time.ts";

export interface DeliveryRecord {
  id: string;
  agent_id: string;
  url: string;
  event: string;
  body: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export function enqueueDelivery(
  db: Database,
  delivery: Pick<DeliveryRecord, "id" | "agent_id" | "url" | "event" | "body">,
): void {
  run(
    db,
    `INSERT INTO webhook_deliveries (id, agent_id, url, event, body, status, next_attempt_at, created_at)
     VALUES ($id, $agent_id, $url, $event, $body, 'pending', $due, $now)`,
    { ...delivery, due: Date.now(), now: nowIso() },
  );
}

export function dueDeliveries(db: Database, nowMs: number, limit: number): DeliveryRecord[] {
  return db
    .query<DeliveryRecord, [number, number]>(
      `SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?
       ORDER BY next_attempt_at, created_at LIMIT ?`,
    )
    .all(nowMs, limit);
}

export function markDelivered(db: Database, id: string): void {
  run(
    db,
    `UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1,
       delivered_at = $now, last_error = NULL WHERE id = $id`,
    { id, now: nowIso() },
  );
}

export function markAttemptFailed(
  db: Database,
  id: string,
  error: string,
  retryAt: number | null,
): void {
  run(
    db,
    `UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $error,
       status = CASE WHEN $retry IS NULL THEN 'failed' ELSE 'pending' END,
       next_attempt_at = coalesce($retry, next_attempt_at)
     WHERE id = $id`,
    { id, error, retry: retryAt },
  );
}

export function listDeliveries(db: Database, agentId: string): DeliveryRecord[] {
  return db
    .query<DeliveryRecord, [string]>(
      "SELECT * FROM webhook_deliveries WHERE agent_id = ? ORDER BY created_at, id",
    )
    .all(agentId);
}

/** Forget deliveries that ended (delivered, or failed for good) before `beforeIso`. */
export function pruneFinishedDeliveries(db: Database, beforeIso: string): number {
  return run(
    db,
    `DELETE FROM webhook_deliveries
     WHERE status != 'pending' AND coalesce(delivered_at, created_at) < $before`,
    { before: beforeIso },
  ).changes;
}

/** Deliveries still to be made (or retried). */
export function countPendingDeliveries(db: Database): number {
  return (
    db
      .query<{ n: number }, []>(
        "SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'",
      )
      .get()?.n ?? 0
  );
}
