import type { Database } from "bun:sqlite";
import type { AgentRecord } from "./agents.ts";

/** Records kept per database: the API's reads go to few agents at a time. */
const KEPT = 256;

const byDatabase = new WeakMap<Database, Map<string, AgentRecord>>();

/**
 * Agents' records as last read outside a transaction, the 256 most recently read per database,
 * so that the reads the API makes again and again (an agent's page, a send) cost no query.
 * They stay true because only committed rows are kept (a row read inside a transaction might
 * yet be rolled back), and every write of an agent's row or of its workspace's — all of that
 * SQL is in agents.ts and workspaces.ts — forgets the agent first, so the next read is the
 * store's. One daemon owns a database (the state lock): no other process changes its rows.
 * Kept records are frozen: they are shared by every caller.
 */
export function keptAgent(db: Database, id: string): AgentRecord | undefined {
  const kept = byDatabase.get(db);
  const record = kept?.get(id);
  if (kept && record) {
    // The most recently read goes last: the first is the one to drop.
    kept.delete(id);
    kept.set(id, record);
  }
  return record;
}

/** A record just read from the store: kept when it is committed. */
export function keepAgent(db: Database, record: AgentRecord): AgentRecord {
  if (db.inTransaction) return record;
  let kept = byDatabase.get(db);
  if (!kept) {
    kept = new Map();
    byDatabase.set(db, kept);
  }
  kept.set(record.id, freeze(record));
  if (kept.size > KEPT) kept.delete(kept.keys().next().value as string);
  return record;
}

/** The agent's row (or its workspace's) is being written. */
export function forgetAgent(db: Database, id: string): void {
  byDatabase.get(db)?.delete(id);
}

function freeze(record: AgentRecord): AgentRecord {
  if (record.command) Object.freeze(record.command);
  Object.freeze(record.extra_args);
  Object.freeze(record.env);
  if (record.workspace) Object.freeze(record.workspace);
  return Object.freeze(record);
}
