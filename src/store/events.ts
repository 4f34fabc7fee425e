import type { Database } from "bun:sqlite";
import type { StoredEvent } from "../api/events.ts";
import { insertRows, run } from "./sql.ts";
import { nowIso } from "./time.ts";

type Row = Omit<StoredEvent, "data"> & { data: string };

/** Append one event; its seq is strictly greater than every seq handed out before. */
export function appendEvent(
  db: Database,
  agentId: string,
  type: StoredEvent["type"],
  data: StoredEvent["data"],
): StoredEvent {
  const event = { seq: 0, agent_id: agentId, type, data, created_at: nowIso() } as StoredEvent;
  appendEvents(db, [event]);
  return event;
}

const EVENT_COLUMNS = ["agent_id", "type", "data", "created_at"] as const;

/**
 * Append events in the order given, setting each one's seq: strictly greater than every seq
 * handed out before, one after another (AUTOINCREMENT numbers the rows of one statement so).
 */
export function appendEvents(db: Database, events: StoredEvent[]): void {
  const rows = events.map((e) => [e.agent_id, e.type, JSON.stringify(e.data), e.created_at]);
  let at = 0;
  for (const { lastRowid, count } of insertRows(db, "events", EVENT_COLUMNS, rows)) {
    for (let i = 0; i < count; i++) (events[at + i] as StoredEvent).seq = lastRowid - count + 1 + i;
    at += count;
  }
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

/**
 * Delete the agent's `count` oldest events. Found from the oldest end of the index: a prune
 * walks as many entries as it deletes, not the many it keeps.
 */
export function pruneOldestEvents(db: Database, agentId: string, count: number): void {
  run(
    db,
    `DELETE FROM events WHERE agent_id = $agent AND seq <= (
       SELECT seq FROM events WHERE agent_id = $agent ORDER BY seq LIMIT 1 OFFSET $skip)`,
    { agent: agentId, skip: count - 1 },
  );
}
