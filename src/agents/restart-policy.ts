import { describeExit, type Exit } from "./lifecycle.ts";
import type { RestartPolicy } from "./status.ts";

/** How far apart automatic restarts are, and how many in a row are tried before giving up. */
export interface Backoff {
  /** The wait before the first automatic restart; each next one waits twice as long. */
  firstDelayMs: number;
  /** No wait is longer than this. */
  maxDelayMs: number;
  /** Automatic restarts in a row (without a stable run between them) before the agent fails. */
  limit: number;
  /** A process that ran this long was stable: the next crash starts the count again. */
  stableAfterMs: number;
}

export type RestartDecision =
  | { restart: false; failure?: string }
  | { restart: true; delayMs: number; attempt: number };

/**
 * Whether an ended process is started again, and after how long: a pure function of the
 * policy, how it ended, how long it ran and how many restarts in a row came before.
 */
export function decideRestart(
  policy: RestartPolicy,
  exit: Exit,
  ranMs: number,
  attemptsBefore: number,
  backoff: Backoff,
): RestartDecision {
  if (exit.stopped || policy === "no") return { restart: false };
  const failed = exit.failure !== undefined || exit.code !== 0 || exit.signal !== null;
  if (policy === "on-failure" && !failed) return { restart: false };
  const attempt = ranMs >= backoff.stableAfterMs ? 1 : attemptsBefore + 1;
  if (attempt > backoff.limit) {
    return {
      restart: false,
      failure: `the agent ${describeExit(exit)}; gave up after ${backoff.limit} automatic restarts in a row (restart: ${policy})`,
    };
  }
  const delayMs = Math.min(backoff.firstDelayMs * 2 ** (attempt - 1), backoff.maxDelayMs);
  return { restart: true, delayMs, attempt };
}
