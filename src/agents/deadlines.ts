/**
 * One timer per key: arming a key again replaces its timer, disarming drops it, and a timer
 * that fires is forgotten. What agentd watches by the clock — a turn's time limit, an agent
 * that has gone silent — is a deadline here, so every watchdog arms, re-arms and forgets the
 * same way.
 */
export class Deadlines {
  private readonly timers = new Map<string, Timer>();

  /** Call `expired` in `ms` unless the key is armed again or disarmed first. */
  arm(key: string, ms: number, expired: () => void): void {
    this.disarm(key);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      expired();
    }, ms);
    timer.unref();
    this.timers.set(key, timer);
  }

  disarm(key: string): void {
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
  }

  isArmed(key: string): boolean {
    return this.timers.has(key);
  }

  get armed(): number {
    return this.timers.size;
  }

  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
