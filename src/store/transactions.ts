import type { Database } from "bun:sqlite";
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
  private readonly finishing = new Map<string, () => void>();

  constructor(
    private readonly db: Database,
    /** Told of each outermost commit and failure: the database's health (storage). */
    private readonly health?: DatabaseHealth,
  ) {}

  run<T>(fn: () => T): T {
    const hooksBefore = this.hooks.length;
    this.depth++;
    let result: T;
    try {
      result = this.db
        .transaction(() => {
          const value = fn();
          if (this.depth === 1) this.runFinishing();
          return value;
        })
        .immediate();
    } catch (error) {
      this.depth--;
      // What the rolled-back part announced is withdrawn.
      this.hooks.length = hooksBefore;
      if (this.depth > 0) throw error;
      this.finishing.clear();
      throw this.health ? this.health.failed(error) : error;
    }
    if (--this.depth === 0) {
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

  private runFinishing(): void {
    for (const step of this.finishing.values()) step();
    this.finishing.clear();
  }

  private runHooks(): void {
    const hooks = this.hooks;
    this.hooks = [];
    for (const hook of hooks) hook();
  }
}
