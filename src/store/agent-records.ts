import type { Database } from "bun:sqlite";
import type { AgentRecord } from "./agents.ts";

/** Records kept per database: the API's reads go to few agents at a time. */
const KEPT = 64;

const byDatabase = new WeakMap<Database, Map<string, AgentRecord>>();

/**
 * Agents' records as last read outside a transaction, the last 64 read per database,
 * so that the reads the API makes again and again (an agent's page, a send) cost no query.
 * They stay true because only committed rows are kept (a row read inside a transaction might
 * yet be rolled back), and every write of an agent's row or of its workspace's — all of that
 * SQL is in agents.ts and workspaces.ts — forgets the agent first, so the next read is the
 * store's. One daemon owns a database (the state lock): no other process changes its rows.
 * Kept records are shared by every caller: frozen (not their arrays and objects, which
 * JSON.stringify then takes three times as long to write), and never to be changed.
 */
export function keptAgent(db: Database, id: string): AgentRecord | undefined {
  return byDatabase.get(db)?.get(id);
}

/** A record just read from the store: kept when it is committed. */
export function keepAgent(db: Database, record: AgentRecord): AgentRecord {
  if (db.inTransaction) return record;
  let kept = byDatabase.get(db);
  if (!kept) {
    kept = new Map();
    byDatabase.set(db, kept);
  }
  kept.set(record.id, Object.freeze(record));
  // The one kept longest goes first.
  if (kept.size > KEPT) kept.delete(kept.keys().next().value as string);
  return record;
}

/** The agent's row (or its workspace's) is being written. */
export function forgetAgent(db: Database, id: string): void {
  byDatabase.get(db)?.delete(id);
}
