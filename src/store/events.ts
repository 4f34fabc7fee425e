import type { Database } from "bun:sqlite";
import type { StoredEvent } from "../api/events.ts";
import { run } from "./sql.ts";
import { nowIso } from "./time.ts";

type Row = Omit<StoredEvent, "data"> & { data: string };

/** Append one event; its seq is strictly greater than every seq handed out before. */
export function appendEvent(
  db: Database,
  agentId: string,
  type: StoredEvent["type"],
  data: StoredEvent["data"],
): StoredEvent {
  const created_at = nowIso();
  const result = run(
    db,
    "INSERT INTO events (agent_id, type, data, created_at) VALUES ($agent, $type, $data, $now)",
    { agent: agentId, type, data: JSON.stringify(data), now: created_at },
  );
  return {
    seq: Number(result.lastInsertRowid),
    agent_id: agentId,
    type,
    data,
    created_at,
  } as StoredEvent;
}

export interface EventQuery {
  agentId?: string | undefined;
  after: number;
  limit: number;
}

export function eventsAfter(db: Database, query: EventQuery): StoredEvent[] {
  return db
    .query<Row, { agent: string | null; after: number; limit: number }>(
      `SELECT * FROM events WHERE seq > $after AND ($agent IS NULL OR agent_id = $agent)
       ORDER BY seq LIMIT $limit`,
    )
    .all({ agent: query.agentId ?? null, after: query.after, limit: query.limit })
    .map((row) => ({ ...row, data: JSON.parse(row.data) }) as StoredEvent);
}

export function latestEventSeq(db: Database): number {
  return db.query<{ seq: number | null }, []>("SELECT max(seq) AS seq FROM events").get()?.seq ?? 0;
}

export function countEvents(db: Database, agentId: string): number {
  return (
    db
      .query<{ n: number }, [string]>("SELECT count(*) AS n FROM events WHERE agent_id = ?")
      .get(agentId)?.n ?? 0
  );
}

/** Delete the oldest events of an agent beyond the newest `keep`; returns how many went. */
export function pruneEvents(db: Database, agentId: string, keep: number): number {
  return run(
    db,
    `DELETE FROM events WHERE agent_id = $agent AND seq <= (
       SELECT seq FROM events WHERE agent_id = $agent ORDER BY seq DESC LIMIT 1 OFFSET $keep)`,
    { agent: agentId, keep },
  ).changes;
}
