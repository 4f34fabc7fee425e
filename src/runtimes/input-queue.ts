import { AgentdError } from "../errors.ts";

/** How much input may wait for an agent that does not read it, and for how long. */
export interface InputLimits {
  /** Bytes written to the agent or waiting to be, past which more is refused. */
  maxBytes: number;
  /** Time without the agent taking anything, past which more is refused. */
  stallMs: number;
}

export const INPUT_LIMITS: InputLimits = { maxBytes: 8 * 1024 * 1024, stallMs: 30_000 };

/** The agent is not draining its input: the prompt was not taken (nothing of it was written). */
export class InputRefusedError extends AgentdError {
  constructor(message: string) {
    super(503, "agent_not_reading", message);
  }
}

/**
 * Writes bytes to the agent whole, calling `progress` whenever some were taken; rejects when
 * they can no longer be written at all (the agent is gone).
 */
export type WriteAll = (bytes: Uint8Array, progress: () => void) => Promise<void>;

/**
 * An agent's input: each write (a prompt, a reply) is taken whole or refused at once, and taken
 * ones are written in order in the background. A sender never waits on an agent that does not
 * read its input: once the bytes waiting pass the limit, or the agent has taken nothing for the
 * stall limit, more is refused — and nothing is ever written half, so the agent never sees a
 * torn prompt.
 */
export class InputQueue {
  private waiting = 0;
  private lastProgress = Date.now();
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly writeAll: WriteAll,
    /** A write that failed after it was taken (the agent went away meanwhile). */
    private readonly onFailure: (error: unknown) => void,
    private readonly limits: InputLimits = INPUT_LIMITS,
  ) {}

  /** Nothing is waiting to be written. */
  get idle(): boolean {
    return this.waiting === 0;
  }

  /** Throws InputRefusedError when `bytes` more would not be taken now. */
  check(bytes: number): void {
    if (this.waiting === 0) return;
    const stalledMs = Date.now() - this.lastProgress;
    if (stalledMs > this.limits.stallMs) {
      throw new InputRefusedError(
        `the agent has not read any of its input for ${Math.round(stalledMs / 1000)} s (${this.waiting} bytes are waiting); it may be stopped or stuck`,
      );
    }
    if (this.waiting + bytes > this.limits.maxBytes) {
      throw new InputRefusedError(
        `the agent is not reading its input: ${this.waiting} bytes are still waiting to be written to it, and ${bytes} more would pass the limit of ${this.limits.maxBytes}; try again when it has caught up`,
      );
    }
  }

  /** Take the bytes to be written after those before them (see `check`); throws if refused. */
  accept(bytes: Uint8Array): void {
    this.check(bytes.length);
    if (this.waiting === 0) this.lastProgress = Date.now();
    this.waiting += bytes.length;
    const progress = () => {
      this.lastProgress = Date.now();
    };
    this.tail = this.tail
      .then(() => this.writeAll(bytes, progress))
      .catch((error) => this.onFailure(error))
      .finally(() => {
        this.waiting -= bytes.length;
        progress();
      });
  }
}
