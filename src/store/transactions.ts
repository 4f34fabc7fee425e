import type { Database } from "bun:sqlite";

/**
 * Write transactions with effects that wait for the commit. What other parts of the daemon
 * see — events handed to subscribers, callers woken up — is announced only once the writes
 * behind it are durable; a rollback announces nothing. Transactions nest: an inner one is a
 * savepoint of the outer one, and the hooks run when the outermost commits.
 */
export class Transactions {
  private depth = 0;
  private hooks: (() => void)[] = [];

  constructor(private readonly db: Database) {}

  run<T>(fn: () => T): T {
    const hooksBefore = this.hooks.length;
    this.depth++;
    let result: T;
    try {
      result = this.db.transaction(fn).immediate();
    } catch (error) {
      this.depth--;
      // What the rolled-back part announced is withdrawn.
      this.hooks.length = hooksBefore;
      throw error;
    }
    if (--this.depth === 0) this.runHooks();
    return result;
  }

  /** Run `hook` once the current transaction commits; at once when none is open. */
  afterCommit(hook: () => void): void {
    if (this.depth === 0) hook();
    else this.hooks.push(hook);
  }

  private runHooks(): void {
    const hooks = this.hooks;
    this.hooks = [];
    for (const hook of hooks) hook();
  }
}
