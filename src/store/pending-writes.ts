import type { Transactions } from "./transactions.ts";

/**
 * Rows to write at the end of the current transaction, all together: a statement costs about
 * as much as the rows it writes, so many rows in a few statements cost a fraction of one
 * statement each. They are written in the order given, as one of the transaction's last
 * steps (at once when none is open), or earlier by `flush` for a reader that needs them in
 * the database. What a rolled-back transaction or savepoint added is dropped with it.
 */
export class PendingWrites<T> {
  private pending: T[] = [];
  /** Items ever added, and ever handed to `write`: rollbacks are counted in these. */
  private added = 0;
  private written = 0;
  private readonly flushStep = () => this.flush();

  constructor(
    private readonly transactions: Transactions,
    /** Names the step that writes them (one per transaction) and the undo of each savepoint. */
    private readonly key: string,
    private readonly write: (items: T[]) => void,
  ) {}

  add(item: T): void {
    const mark = this.added;
    this.transactions.onRollback(() => this.dropFrom(mark), this.key);
    this.pending.push(item);
    this.added++;
    this.transactions.beforeCommit(this.key, this.flushStep);
  }

  /** Write what is pending now. */
  flush(): void {
    if (this.pending.length === 0) return;
    const items = this.pending;
    this.pending = [];
    this.written += items.length;
    this.write(items);
  }

  /** Everything added from the `mark`th item on was rolled back (SQLite undoes what was written). */
  private dropFrom(mark: number): void {
    this.added = Math.max(mark, this.written);
    this.pending.length = this.added - this.written;
  }
}
