import type { Database } from "bun:sqlite";
import type { StoredEvent } from "../api/events.ts";
import { run } from "./sql.ts";
import { nowIso } from "./time.ts";

/**
 * Events are stored a batch to a row (see the migration that made event_batches): an agent's
 * events recorded one after another are one row, a JSON array of [type, data, created_at] holding
 * the seqs last_seq - count + 1 … last_seq, of which those before first_seq have been pruned.
 */
interface BatchRow {
  last_seq: number;
  agent_id: string;
  count: number;
  first_seq: number;
  events: string;
}

type Stored = [type: StoredEvent["type"], data: StoredEvent["data"], created_at: string];

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

/**
 * Append events in the order given, setting each one's seq: strictly greater than every seq
 * handed out before, one after another. Each run of one agent's events is one row. The seqs
 * come from the table's sequence, read in the same transaction as the rows are written, so two
 * processes writing the same database never hand out the same seq.
 */
export function appendEvents(db: Database, events: StoredEvent[]): void {
  if (events.length === 0) return;
  if (!db.inTransaction) {
    db.transaction(() => appendEvents(db, events)).immediate();
    return;
  }
  let seq = lastSeqHandedOut(db);
  const insert = db.query<unknown, [number, string, number, number, string]>(
    "INSERT INTO event_batches (last_seq, agent_id, count, first_seq, events) VALUES (?, ?, ?, ?, ?)",
  );
  for (let start = 0; start < events.length; ) {
    const agentId = (events[start] as StoredEvent).agent_id;
    let end = start + 1;
    while (end < events.length && (events[end] as StoredEvent).agent_id === agentId) end++;
    const stored: Stored[] = [];
    for (let i = start; i < end; i++) {
      const event = events[i] as StoredEvent;
      event.seq = ++seq;
      stored.push([event.type, event.data, event.created_at]);
    }
    const count = end - start;
    insert.run(seq, agentId, count, seq - count + 1, JSON.stringify(stored));
    start = end;
  }
}

/** The greatest seq ever handed out (kept by AUTOINCREMENT even when its row is gone). */
function lastSeqHandedOut(db: Database): number {
  return (
    db
      .query<{ seq: number }, []>("SELECT seq FROM sqlite_sequence WHERE name = 'event_batches'")
      .get()?.seq ?? 0
  );
}

export interface EventQuery {
  agentId?: string | undefined;
  after: number;
  limit: number;
}

/** Up to `limit` stored events with seq greater than `after`, of one agent or of all, in order. */
export function eventsAfter(db: Database, query: EventQuery): StoredEvent[] {
  const batches =
    query.agentId === undefined
      ? db
          .query<BatchRow, [number]>(
            "SELECT * FROM event_batches WHERE last_seq > ? ORDER BY last_seq",
          )
          .iterate(query.after)
      : db
          .query<BatchRow, [string, number]>(
            "SELECT * FROM event_batches WHERE agent_id = ? AND last_seq > ? ORDER BY last_seq",
          )
          .iterate(query.agentId, query.after);
  const found: StoredEvent[] = [];
  for (const batch of batches) {
    const stored = JSON.parse(batch.events) as Stored[];
    const base = batch.last_seq - batch.count + 1;
    for (let seq = Math.max(batch.first_seq, query.after + 1); seq <= batch.last_seq; seq++) {
      const [type, data, created_at] = stored[seq - base] as Stored;
      found.push({ seq, agent_id: batch.agent_id, type, data, created_at } as StoredEvent);
      if (found.length === query.limit) return found;
    }
  }
  return found;
}

export function latestEventSeq(db: Database): number {
  return (
    db.query<{ seq: number | null }, []>("SELECT max(last_seq) AS seq FROM event_batches").get()
      ?.seq ?? 0
  );
}

export function countEvents(db: Database, agentId: string): number {
  return (
    db
      .query<{ n: number | null }, [string]>(
        "SELECT sum(last_seq - first_seq + 1) AS n FROM event_batches WHERE agent_id = ?",
      )
      .get(agentId)?.n ?? 0
  );
}

/**
 * Delete the agent's `count` oldest events: the batches that hold only such events go, and the
 * batch holding the last of them keeps the rest (its first_seq moves on, its array is not
 * rewritten). Found from the oldest end of the index: a prune walks as many batches as it
 * deletes, not the many it keeps.
 */
export function pruneOldestEvents(db: Database, agentId: string, count: number): void {
  const batches = db
    .query<Pick<BatchRow, "last_seq" | "first_seq">, [string]>(
      "SELECT last_seq, first_seq FROM event_batches WHERE agent_id = ? ORDER BY last_seq",
    )
    .iterate(agentId);
  let left = count;
  let wholeThrough = 0;
  let partly: { last_seq: number; first_seq: number } | null = null;
  for (const batch of batches) {
    if (left <= 0) break;
    const held = batch.last_seq - batch.first_seq + 1;
    if (held > left) {
      partly = { last_seq: batch.last_seq, first_seq: batch.first_seq + left };
      break;
    }
    left -= held;
    wholeThrough = batch.last_seq;
  }
  if (wholeThrough > 0) {
    run(db, "DELETE FROM event_batches WHERE agent_id = $agent AND last_seq <= $through", {
      agent: agentId,
      through: wholeThrough,
    });
  }
  if (partly !== null) {
    run(db, "UPDATE event_batches SET first_seq = $first WHERE last_seq = $last", {
      first: partly.first_seq,
      last: partly.last_seq,
    });
  }
}
