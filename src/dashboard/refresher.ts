/**
 * What to read again after events said it changed, read one round at a time. Everything marked
 * before a round starts is read in that round, so what a round shows is at least as new as the
 * events that asked for it; rounds never overlap, so an older answer never overwrites a newer
 * one. Marks that arrive during a round wait for the next, at most one round per `intervalMs`:
 * a busy agent costs a few requests a second, not one per event.
 */
export class Refresher<K> {
  private marked = new Set<K>();
  private everything = false;
  private running = false;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastRound = Number.NEGATIVE_INFINITY;

  constructor(
    /** Read `keys` again, or everything when `all`; reports its own failures (never throws). */
    private readonly round: (keys: Set<K>, all: boolean) => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  mark(key: K): void {
    this.marked.add(key);
    this.schedule();
  }

  markAll(): void {
    this.everything = true;
    this.schedule();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.running || this.timer !== null || this.closed) return;
    const wait = Math.max(0, this.lastRound + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, wait);
  }

  private async run(): Promise<void> {
    if (this.closed || (this.marked.size === 0 && !this.everything)) return;
    const keys = this.marked;
    const all = this.everything;
    this.marked = new Set();
    this.everything = false;
    this.running = true;
    this.lastRound = Date.now();
    try {
      await this.round(keys, all);
    } finally {
      this.running = false;
      if (this.marked.size > 0 || this.everything) this.schedule();
    }
  }
}
