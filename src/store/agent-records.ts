import type { Database } from "bun:sqlite";
import type { AgentRecord } from "./agents.ts";

/** Records kept per database: the API's reads go to few agents at a time. */
const KEPT = 64;

/** Where an agent stands in the list of agents: by creation, then by id. */
export interface AgentPosition {
  created_at: string;
  id: string;
}

interface Kept {
  /** As committed, the last KEPT read or written (the one kept longest first). */
  recent: Map<string, AgentRecord>;
  /** As read or written in the transaction under way: committed with it, or forgotten. */
  uncommitted: Map<string, AgentRecord>;
  /** Every agent, once the whole list was read. */
  listing: AgentListing | undefined;
}

const byDatabase = new WeakMap<Database, Kept>();

function keptIn(db: Database): Kept {
  let kept = byDatabase.get(db);
  if (!kept) {
    kept = { recent: new Map(), uncommitted: new Map(), listing: undefined };
    byDatabase.set(db, kept);
  }
  return kept;
}

/**
 * Agents' records as last read or written — the last 64 per database, and every agent once the
 * list of agents was read — so that the reads the API and the turns make again and again (an
 * agent's page, a send, a turn's status changes, the list) cost no query.
 * They stay true because every write of an agent's row or of its workspace's — all of that SQL
 * is in agents.ts and workspaces.ts — forgets the agent first (and, for a write that names every
 * changed field, keeps the record it makes), and because a record read or written inside a
 * transaction is seen only inside it until `Transactions` says it committed; a rollback forgets
 * it. One daemon owns a database (the state lock): no other process changes its rows.
 * Kept records are shared by every caller: frozen (not their arrays and objects, which
 * JSON.stringify then takes three times as long to write), and never to be changed.
 */
export function keptAgent(db: Database, id: string): AgentRecord | undefined {
  const kept = byDatabase.get(db);
  if (!kept) return undefined;
  if (db.inTransaction) {
    const uncommitted = kept.uncommitted.get(id);
    if (uncommitted) return uncommitted;
  }
  return kept.recent.get(id) ?? kept.listing?.current(id);
}

/** A record just read from the store, or just written to it: kept. */
export function keepAgent(db: Database, record: AgentRecord): AgentRecord {
  const kept = keptIn(db);
  Object.freeze(record);
  if (db.inTransaction) kept.uncommitted.set(record.id, record);
  else keepCommitted(kept, record);
  return record;
}

/** The agent's row (or its workspace's) is being written. */
export function forgetAgent(db: Database, id: string): void {
  const kept = byDatabase.get(db);
  kept?.recent.delete(id);
  kept?.uncommitted.delete(id);
  kept?.listing?.forget(id);
}

/** The transaction under way committed: what it read and wrote is what the store holds. */
export function agentRecordsCommitted(db: Database): void {
  const kept = byDatabase.get(db);
  if (!kept || kept.uncommitted.size === 0) return;
  for (const record of kept.uncommitted.values()) keepCommitted(kept, record);
  kept.uncommitted.clear();
}

/** The transaction (or a savepoint of it) rolled back: what it read and wrote may not be so. */
export function agentRecordsRolledBack(db: Database): void {
  byDatabase.get(db)?.uncommitted.clear();
}

function keepCommitted(kept: Kept, record: AgentRecord): void {
  const { recent } = kept;
  // Kept anew, it goes to the end: the one kept longest goes first.
  recent.delete(record.id);
  recent.set(record.id, record);
  if (recent.size > KEPT) recent.delete(recent.keys().next().value as string);
}

/** The list of every agent kept for this database, if one was read (and kept) before. */
export function keptListing(db: Database): AgentListing | undefined {
  return byDatabase.get(db)?.listing;
}

/** Every agent's committed record, in list order: kept from now on (outside a transaction). */
export function keepListing(db: Database, records: AgentRecord[]): AgentListing {
  const listing = new AgentListing(records.map((record) => Object.freeze(record)));
  if (!db.inTransaction) keptIn(db).listing = listing;
  return listing;
}

/**
 * Every agent's record in list order (created_at, then id): read from the store once, then
 * brought up to date agent by agent — those written since are read again when it is next
 * asked for, so a list costs no query while nothing changes, and one per agent changed.
 * Agents are always listed in the same order, with or without it, and cursors stay true.
 */
export class AgentListing {
  private readonly byId = new Map<string, AgentRecord>();
  /** Agents written since their record here was read. */
  private readonly stale = new Set<string>();

  /** `ordered`: sorted by position. */
  constructor(private readonly ordered: AgentRecord[]) {
    for (const record of ordered) this.byId.set(record.id, record);
  }

  /** The agent's kept record, unless it was written since. */
  current(id: string): AgentRecord | undefined {
    return this.stale.has(id) ? undefined : this.byId.get(id);
  }

  forget(id: string): void {
    this.stale.add(id);
  }

  /** Reads each agent written since, again: its record now, or null when it is gone. */
  refresh(read: (id: string) => AgentRecord | null): void {
    for (const id of this.stale) {
      // Read while still stale, so that the read goes to the store, not to this listing.
      const record = read(id);
      this.stale.delete(id);
      this.put(id, record);
    }
  }

  /** The agents after `after` (from the first without it), in order. */
  *from(after: AgentPosition | undefined): Generator<AgentRecord> {
    const start = after === undefined ? 0 : this.indexAfter(after);
    for (let i = start; i < this.ordered.length; i++) yield this.ordered[i] as AgentRecord;
  }

  private put(id: string, record: AgentRecord | null): void {
    const old = this.byId.get(id);
    if (old !== undefined) this.ordered.splice(this.indexOf(old), 1);
    if (record === null) {
      this.byId.delete(id);
      return;
    }
    const frozen = Object.freeze(record);
    this.byId.set(id, frozen);
    this.ordered.splice(this.indexAfter(frozen), 0, frozen);
  }

  private indexOf(record: AgentRecord): number {
    // The first at or after its position is the record itself: positions are unique.
    return this.indexAfter(record) - 1;
  }

  /** The index of the first agent that comes after `position`. */
  private indexAfter(position: AgentPosition): number {
    let low = 0;
    let high = this.ordered.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (comesAfter(this.ordered[middle] as AgentRecord, position)) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}

/**
 * Whether `a` comes after `b` in list order. Timestamps and ids are ASCII, where JavaScript's
 * comparison of strings is SQLite's (bytes).
 */
export function comesAfter(a: AgentPosition, b: AgentPosition): boolean {
  if (a.created_at !== b.created_at) return a.created_at > b.created_at;
  return a.id > b.id;
}
