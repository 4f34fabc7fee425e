import type { Database } from "bun:sqlite";
import type { EventBus } from "../events/bus.ts";
import type { AgentEvent, Prompt } from "../protocols/session.ts";
import { addAgentUsage, incrementAgentTurns } from "../store/agents.ts";
import { insertMessage } from "../store/messages.ts";
import { nowIso } from "../store/time.ts";
import type { Transactions } from "../store/transactions.ts";
import {
  addTurnUsage,
  closeOpenTurns,
  getTurn,
  insertTurn,
  isOpenTurn,
  oldestOpenTurn,
  type TurnRecord,
  updateTurn,
} from "../store/turns.ts";
import type { TurnStatus } from "./status.ts";
import type { TurnWaiters } from "./waiters.ts";

export interface TurnDeps {
  db: Database;
  transactions: Transactions;
  bus: EventBus;
  waiters: TurnWaiters;
}

/** What one model call used, as a session reports it. */
export type Usage = Omit<Extract<AgentEvent, { type: "usage" }>, "type">;

/**
 * An agent's turns: each prompt opens one; the agent's events start, answer, fail or cancel
 * it. An event names its turn by id, or (agents that answer in order) means the oldest turn
 * still open; an id that names no open turn touches none. Callers waiting on a turn are woken
 * once its end is committed.
 */
export class AgentTurns {
  constructor(private readonly deps: TurnDeps) {}

  /** A prompt for the agent: a turn waiting for its answer, and the user's side of it. */
  open(agentId: string, prompt: Prompt): TurnRecord {
    const turn = insertTurn(this.deps.db, {
      agent_id: agentId,
      id: prompt.turn_id,
      input: prompt.input,
      metadata: prompt.metadata,
    });
    insertMessage(this.deps.db, agentId, { role: "user", content: turn.input, turn_id: turn.id });
    this.deps.bus.record(agentId, "turn.queued", { turn_id: turn.id });
    return turn;
  }

  started(agentId: string, turnId: string | undefined): void {
    const turn = this.find(agentId, turnId);
    if (turn?.status === "queued") {
      updateTurn(this.deps.db, agentId, turn.id, { status: "running", started_at: nowIso() });
    }
    this.deps.bus.record(agentId, "turn.started", { turn_id: turn?.id ?? turnId ?? null });
  }

  /** The agent answered; returns the turn it answered, when known. */
  completed(agentId: string, turnId: string | undefined, response: string | null) {
    const turn = this.find(agentId, turnId);
    if (response !== null) {
      insertMessage(this.deps.db, agentId, {
        role: "assistant",
        content: response,
        turn_id: turn?.id ?? null,
      });
    }
    incrementAgentTurns(this.deps.db, agentId);
    if (turn) this.finish(turn, "completed", { response });
    this.deps.bus.record(agentId, "turn.completed", {
      turn_id: turn?.id ?? turnId ?? null,
      response,
    });
    return turn;
  }

  failed(agentId: string, turnId: string | undefined, error: string) {
    const turn = this.find(agentId, turnId);
    if (turn) this.finish(turn, "error", { error });
    this.deps.bus.record(agentId, "turn.failed", { turn_id: turn?.id ?? turnId ?? null, error });
    return turn;
  }

  cancelled(agentId: string, turnId: string | undefined, reason: string) {
    const turn = this.find(agentId, turnId);
    if (turn) this.finish(turn, "cancelled", { error: reason });
    this.deps.bus.record(agentId, "turn.cancelled", {
      turn_id: turn?.id ?? turnId ?? null,
      reason,
    });
    return turn;
  }

  /** Tokens and cost of one model call: the agent's totals, and the turn under way. */
  usage(agentId: string, usage: Usage): void {
    addAgentUsage(this.deps.db, agentId, usage);
    const turn = oldestOpenTurn(this.deps.db, agentId);
    if (turn) addTurnUsage(this.deps.db, agentId, turn.id, usage);
    this.deps.bus.record(agentId, "usage", { ...usage, turn_id: turn?.id ?? null });
  }

  /** Every open turn ends: its agent's process is gone. */
  closeOpen(agentId: string, status: "error" | "cancelled", reason: string): void {
    for (const turnId of closeOpenTurns(this.deps.db, agentId, status, reason)) {
      this.announceEnd(agentId, turnId, status, reason);
    }
  }

  /** The id names a turn that has already ended: an event about it is a repeat. */
  endedAlready(agentId: string, turnId: string | undefined): boolean {
    if (turnId === undefined) return false;
    const turn = getTurn(this.deps.db, agentId, turnId);
    return turn !== null && !isOpenTurn(turn);
  }

  hasOpen(agentId: string): boolean {
    return oldestOpenTurn(this.deps.db, agentId) !== null;
  }

  private announceEnd(agentId: string, turnId: string, status: TurnStatus, reason: string): void {
    if (status === "cancelled") {
      this.deps.bus.record(agentId, "turn.cancelled", { turn_id: turnId, reason });
    } else {
      this.deps.bus.record(agentId, "turn.failed", { turn_id: turnId, error: reason });
    }
    this.wake(agentId, turnId);
  }

  private finish(
    turn: TurnRecord,
    status: TurnStatus,
    fields: { response?: string | null; error?: string },
  ): void {
    updateTurn(this.deps.db, turn.agent_id, turn.id, {
      status,
      completed_at: nowIso(),
      ...fields,
    });
    this.wake(turn.agent_id, turn.id);
  }

  private wake(agentId: string, turnId: string): void {
    this.deps.transactions.afterCommit(() => this.deps.waiters.settle(agentId, turnId));
  }

  /** The open turn an event is about: the one it names, else the oldest one still open. */
  private find(agentId: string, turnId: string | undefined): TurnRecord | null {
    if (turnId === undefined) return oldestOpenTurn(this.deps.db, agentId);
    const named = getTurn(this.deps.db, agentId, turnId);
    return named && isOpenTurn(named) ? named : null;
  }
}
