import type { Database } from "bun:sqlite";
import { getAgent } from "../store/agents.ts";
import { openTurnsWithLimits } from "../store/turns.ts";
import type { Deadlines } from "./deadlines.ts";

/** What becomes of a turn that ran past its agent's `turn_timeout_s`. */
export interface TurnLimitDeps {
  db: Database;
  deadlines: Deadlines;
  /** Fail the turn (an error event, the error webhook): it took too long. */
  fail(agentId: string, turnId: string, error: string): void;
  /** The agent's process is replaced, as its restart policy would replace a dead one. */
  recycle(agentId: string, reason: string): void;
}

/** Told as a turn opens, starts and ends (after the writes behind each have committed). */
export interface TurnObserver {
  opened(agentId: string, turnId: string): void;
  started(agentId: string, turnId: string): void;
  ended(agentId: string, turnId: string): void;
}

/**
 * Each agent's `turn_timeout_s`: a turn still open that long after it was sent (or, once it
 * started, after it started) is failed. The agent keeps running unless its restart policy
 * restarts agents that fail: then its process is replaced.
 */
export class TurnLimits implements TurnObserver {
  constructor(private readonly deps: TurnLimitDeps) {}

  opened(agentId: string, turnId: string): void {
    this.arm(agentId, turnId, Date.now());
  }

  started(agentId: string, turnId: string): void {
    this.arm(agentId, turnId, Date.now());
  }

  ended(agentId: string, turnId: string): void {
    this.deps.deadlines.disarm(key(agentId, turnId));
  }

  /** At daemon start: the turns a previous daemon left open keep the time they have left. */
  recover(): void {
    for (const turn of openTurnsWithLimits(this.deps.db)) {
      const since = turn.started_at ?? turn.created_at;
      this.arm(turn.agent_id, turn.id, Date.parse(since));
    }
  }

  private arm(agentId: string, turnId: string, since: number): void {
    const limitS = getAgent(this.deps.db, agentId)?.turn_timeout_s ?? null;
    if (limitS === null) return;
    const left = Math.max(0, since + limitS * 1000 - Date.now());
    this.deps.deadlines.arm(key(agentId, turnId), left, () =>
      this.expired(agentId, turnId, limitS),
    );
  }

  private expired(agentId: string, turnId: string, limitS: number): void {
    const error = `the turn took longer than its limit of ${limitS} s (turn_timeout_s)`;
    this.deps.fail(agentId, turnId, error);
    if (getAgent(this.deps.db, agentId)?.restart !== "no") {
      this.deps.recycle(agentId, `turn ${turnId} ${error.slice("the turn ".length)}`);
    }
  }
}

function key(agentId: string, turnId: string): string {
  return `turn ${agentId} ${turnId}`;
}
