import type { Database } from "bun:sqlite";
import { getAgent } from "../store/agents.ts";
import { openTurnsWithLimits } from "../store/turns.ts";
import type { Deadlines } from "./deadlines.ts";

/** What becomes of a turn that ran past its agent's `turn_timeout_s` or `turn_idle_timeout_s`. */
export interface TurnLimitDeps {
  db: Database;
  deadlines: Deadlines;
  /** Fail the turn (an error event, the error webhook): it took too long. */
  fail(agentId: string, turnId: string, error: string): void;
  /** The agent's turns still open. */
  openTurns(agentId: string): string[];
  /** Ask the agent, through its protocol where it can, to abandon these turns. */
  interrupt(agentId: string, turnIds: string[]): void;
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
 * Each agent's limits on its turns. `turn_timeout_s`: a turn still open that long after it was
 * sent (or, once it started, after it started) is failed. `turn_idle_timeout_s`, a watchdog for
 * CLIs that hang after their last event: when the agent says nothing for that long while a turn
 * is open, its open turns are failed, and asked through the protocol to stop where it can. Either
 * way the agent keeps running unless its restart policy restarts agents that fail: then its
 * process is replaced.
 */
export class TurnLimits implements TurnObserver {
  constructor(private readonly deps: TurnLimitDeps) {}

  opened(agentId: string, turnId: string): void {
    this.arm(agentId, turnId, Date.now());
    this.watchSilence(agentId);
  }

  /** The agent's own output arrived: the silence it is watched for starts again. */
  heard(agentId: string): void {
    if (this.watchingSilence(agentId)) this.watchSilence(agentId);
  }

  started(agentId: string, turnId: string): void {
    this.arm(agentId, turnId, Date.now());
  }

  ended(agentId: string, turnId: string): void {
    this.deps.deadlines.disarm(key(agentId, turnId));
    // Silence between turns is no fault.
    if (this.deps.openTurns(agentId).length === 0) this.deps.deadlines.disarm(idleKey(agentId));
  }

  /** Whether the agent's silence is being watched now (a turn is open and it has a limit). */
  watchingSilence(agentId: string): boolean {
    return this.deps.deadlines.isArmed(idleKey(agentId));
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
    this.recycleIfRestarting(agentId, `turn ${turnId} ${error.slice("the turn ".length)}`);
  }

  private watchSilence(agentId: string): void {
    const limitS = getAgent(this.deps.db, agentId)?.turn_idle_timeout_s ?? null;
    if (limitS === null) return;
    this.deps.deadlines.arm(idleKey(agentId), limitS * 1000, () => this.silent(agentId, limitS));
  }

  /** The agent said nothing for its idle limit; what it had not answered never will be. */
  private silent(agentId: string, limitS: number): void {
    const open = this.deps.openTurns(agentId);
    if (open.length === 0) return;
    const error = `the agent produced no output for ${limitS} s during the turn (turn_idle_timeout_s); it may be hung`;
    this.deps.interrupt(agentId, open);
    for (const turnId of open) this.deps.fail(agentId, turnId, error);
    this.recycleIfRestarting(agentId, `it ${error.slice("the agent ".length)}`);
  }

  private recycleIfRestarting(agentId: string, reason: string): void {
    if (getAgent(this.deps.db, agentId)?.restart !== "no") this.deps.recycle(agentId, reason);
  }
}

function key(agentId: string, turnId: string): string {
  return `turn ${agentId} ${turnId}`;
}

function idleKey(agentId: string): string {
  return `idle ${agentId}`;
}
