/** One key's rest: whether it was asked for during it, and what ends it. */
interface Rest {
  again: boolean;
  timer: Timer | null;
  /** Settles when the rest is over, or dropped. */
  over: Promise<void>;
  end: () => void;
}

/**
 * Keys resting after work done for them, so that work asked for again and again is done at most
 * once per rest: an ask during a rest is remembered, and `resume` is called for the key once,
 * when the rest ends. A rest begins with `begin` and ends `endIn` ms after that is called.
 */
export class Rests {
  private readonly resting = new Map<string, Rest>();

  constructor(private readonly resume: (key: string) => void) {}

  /** True when the key rests: the ask is remembered, and the key resumed when the rest ends. */
  defer(key: string): boolean {
    const rest = this.resting.get(key);
    if (rest) rest.again = true;
    return rest !== undefined;
  }

  /** The key rests from now; `endIn` says when the rest ends. */
  begin(key: string): { endIn(ms: number): void } {
    const { promise, resolve } = Promise.withResolvers<void>();
    const rest: Rest = { again: false, timer: null, over: promise, end: resolve };
    this.resting.set(key, rest);
    return {
      endIn: (ms) => {
        if (this.resting.get(key) !== rest) return;
        rest.timer = setTimeout(() => {
          this.resting.delete(key);
          if (rest.again) this.resume(key);
          rest.end();
        }, ms);
      },
    };
  }

  /** Resolves once every ask remembered so far has been resumed. */
  async resumed(): Promise<void> {
    for (;;) {
      const waiting = [...this.resting.values()].filter((rest) => rest.again);
      if (waiting.length === 0) return;
      await Promise.all(waiting.map((rest) => rest.over));
    }
  }

  /** Every rest ends now, and nothing is resumed. */
  clear(): void {
    for (const rest of this.resting.values()) {
      if (rest.timer) clearTimeout(rest.timer);
      rest.end();
    }
    this.resting.clear();
  }
}
