import type { Database } from "bun:sqlite";
import { agentRecordsCommitted, agentRecordsRolledBack } from "./agent-records.ts";
import type { DatabaseHealth } from "./database-health.ts";

/**
 * Write transactions with effects that wait for the commit. What other parts of the daemon
 * see — events handed to subscribers, callers woken up — is announced only once the writes
 * behind it are durable; a rollback announces nothing. Transactions nest: an inner one is a
 * savepoint of the outer one, and the hooks run when the outermost commits. A write that fails
 * for want of storage is a StorageError (503), and the database's health hears of it.
 */
export class Transactions {
  private depth = 0;
  private hooks: (() => void)[] = [];
  private undos: (() => void)[] = [];
  /** The run (transaction or savepoint) open now, by number; 0 when none is. */
  private scope = 0;
  private scopes = 0;
  /** Keys of undos already registered, with the run they were registered in. */
  private readonly undoKeys = new Map<string, number>();
  private readonly finishing = new Map<string, () => void>();
  /** BEGIN IMMEDIATE (a savepoint when one is open), fn, and COMMIT; made once. */
  private readonly transaction: (fn: () => unknown) => unknown;

  constructor(
    private readonly db: Database,
    /** Told of each outermost commit and failure: the database's health (storage). */
    private readonly health?: DatabaseHealth,
  ) {
    const body = db.transaction((fn: () => unknown) => {
      const value = fn();
      if (this.depth === 1) this.runFinishing();
      return value;
    });
    this.transaction = (fn) => body.immediate(fn);
  }

  run<T>(fn: () => T): T {
    const hooksBefore = this.hooks.length;
    const undosBefore = this.undos.length;
    const outerScope = this.scope;
    this.scope = ++this.scopes;
    this.depth++;
    let result: T;
    try {
      result = this.transaction(fn) as T;
    } catch (error) {
      this.depth--;
      this.scope = outerScope;
      // What the rolled-back part announced is withdrawn, and what it cached is forgotten.
      this.hooks.length = hooksBefore;
      this.undo(undosBefore);
      agentRecordsRolledBack(this.db);
      if (this.depth > 0) throw error;
      this.finishing.clear();
      this.undoKeys.clear();
      throw this.health ? this.health.failed(error) : error;
    }
    this.scope = outerScope;
    if (--this.depth === 0) {
      this.undos = [];
      this.undoKeys.clear();
      agentRecordsCommitted(this.db);
      this.health?.written();
      this.runHooks();
    }
    return result;
  }

  /**
   * Run `step` as the last write of the current transaction (at once when none is open); one
   * step per key, however often it is asked for: work that a whole batch of writes calls for
   * once, such as pruning what they pushed past a limit.
   */
  beforeCommit(key: string, step: () => void): void {
    if (this.depth === 0) step();
    else if (!this.finishing.has(key)) this.finishing.set(key, step);
  }

  /** Run `hook` once the current transaction commits; at once when none is open. */
  afterCommit(hook: () => void): void {
    if (this.depth === 0) hook();
    else this.hooks.push(hook);
  }

  /**
   * Run `undo` if the current transaction (or the savepoint open now) rolls back; nothing when
   * none is open, as a statement outside a transaction either worked or threw before anything
   * needs undoing. For memory kept beside the store (caches of rows): a rollback must not
   * leave it believing what the database no longer holds.
   */
  onRollback(undo: () => void, key?: string): void {
    if (this.depth === 0) return;
    if (key !== undefined) {
      // Once per key in each run is enough: an undo forgets, and forgetting twice is the same.
      if (this.undoKeys.get(key) === this.scope) return;
      this.undoKeys.set(key, this.scope);
    }
    this.undos.push(undo);
  }

  private undo(from: number): void {
    const undos = this.undos.splice(from);
    for (let i = undos.length - 1; i >= 0; i--) undos[i]?.();
  }

  /** The finishing steps, in the order asked for; a step may ask for more (run after it). */
  private runFinishing(): void {
    for (const [key, step] of this.finishing) {
      this.finishing.delete(key);
      step();
    }
  }

  private runHooks(): void {
    const hooks = this.hooks;
    this.hooks = [];
    for (const hook of hooks) hook();
  }
}
