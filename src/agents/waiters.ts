/** Callers waiting for a turn to finish; a caller giving up never affects the turn itself. */
export class TurnWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();

  /** Resolves "settled" when the turn finishes, or "timeout" after timeoutMs (null: never). */
  wait(agentId: string, turnId: string, timeoutMs: number | null): Promise<"settled" | "timeout"> {
    const key = `${agentId}\n${turnId}`;
    return new Promise((resolve) => {
      let timer: Timer | undefined;
      const done = () => {
        clearTimeout(timer);
        resolve("settled");
      };
      const set = this.waiting.get(key) ?? new Set();
      set.add(done);
      this.waiting.set(key, set);
      if (timeoutMs !== null) {
        timer = setTimeout(() => {
          set.delete(done);
          if (set.size === 0) this.waiting.delete(key);
          resolve("timeout");
        }, timeoutMs);
      }
    });
  }

  settle(agentId: string, turnId: string): void {
    const key = `${agentId}\n${turnId}`;
    const set = this.waiting.get(key);
    if (!set) return;
    this.waiting.delete(key);
    for (const done of set) done();
  }
}
