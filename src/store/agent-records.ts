import type { Database } from "bun:sqlite";
import type { AgentRecord } from "./agents.ts";

/** Records kept per database: the API's reads go to few agents at a time. */
const KEPT = 64;

interface AgentRecords {
  /** As committed, the last KEPT read (oldest first). */
  committed: Map<string, AgentRecord>;
  /** As read or written in the transaction under way: committed with it, or forgotten. */
  uncommitted: Map<string, AgentRecord>;
}

const byDatabase = new WeakMap<Database, AgentRecords>();

/**
 * Agents' records as last read or written, the last 64 per database, so that the reads the API
 * and the turns make again and again (an agent's page, a send, a turn's status changes) cost no
 * query. They stay true because every write of an agent's row or of its workspace's — all of that
 * SQL is in agents.ts and workspaces.ts — forgets the agent first (and, for a write that names
 * every changed field, keeps the record it makes), and because a record read or written inside a
 * transaction is seen only inside it until `Transactions` says it committed; a rollback forgets
 * it. One daemon owns a database (the state lock): no other process changes its rows.
 * Kept records are shared by every caller: frozen (not their arrays and objects, which
 * JSON.stringify then takes three times as long to write), and never to be changed.
 */
export function keptAgent(db: Database, id: string): AgentRecord | undefined {
  const records = byDatabase.get(db);
  if (!records) return undefined;
  if (db.inTransaction) {
    const uncommitted = records.uncommitted.get(id);
    if (uncommitted) return uncommitted;
  }
  return records.committed.get(id);
}

/** A record just read from the store, or just written to it: kept. */
export function keepAgent(db: Database, record: AgentRecord): AgentRecord {
  const records = recordsOf(db);
  Object.freeze(record);
  if (db.inTransaction) records.uncommitted.set(record.id, record);
  else keepCommitted(records, record);
  return record;
}

/** The agent's row (or its workspace's) is being written. */
export function forgetAgent(db: Database, id: string): void {
  const records = byDatabase.get(db);
  records?.committed.delete(id);
  records?.uncommitted.delete(id);
}

/** The transaction under way committed: what it read and wrote is what the store holds. */
export function agentRecordsCommitted(db: Database): void {
  const records = byDatabase.get(db);
  if (!records || records.uncommitted.size === 0) return;
  for (const record of records.uncommitted.values()) keepCommitted(records, record);
  records.uncommitted.clear();
}

/** The transaction (or a savepoint of it) rolled back: what it read and wrote may not be so. */
export function agentRecordsRolledBack(db: Database): void {
  byDatabase.get(db)?.uncommitted.clear();
}

function recordsOf(db: Database): AgentRecords {
  let records = byDatabase.get(db);
  if (!records) {
    records = { committed: new Map(), uncommitted: new Map() };
    byDatabase.set(db, records);
  }
  return records;
}

function keepCommitted(records: AgentRecords, record: AgentRecord): void {
  const { committed } = records;
  // Kept anew, it goes to the end: the one kept longest goes first.
  committed.delete(record.id);
  committed.set(record.id, record);
  if (committed.size > KEPT) committed.delete(committed.keys().next().value as string);
}
