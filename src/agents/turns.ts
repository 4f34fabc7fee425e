import type { Database } from "bun:sqlite";
import type { SendInput, SendResult } from "../api/schemas.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import type { EventBus } from "../events/bus.ts";
import type { AgentEvent, Prompt } from "../protocols/session.ts";
import {
  type AgentRecord,
  addAgentUsage,
  incrementAgentTurns,
  type Spending,
} from "../store/agents.ts";
import { insertMessage } from "../store/messages.ts";
import { nowIso } from "../store/time.ts";
import type { Transactions } from "../store/transactions.ts";
import {
  addTurnUsage,
  closeOpenTurns,
  getTurn,
  insertTurn,
  isOpenTurn,
  listTurns,
  oldestOpenTurn,
  openTurnIds,
  type TurnPage,
  type TurnRecord,
  turnExists,
  updateTurn,
} from "../store/turns.ts";
import { insertUsage } from "../store/usage.ts";
import type { TurnStatus } from "./status.ts";
import type { TurnObserver } from "./turn-limits.ts";
import { checkTurnId, shortRandom } from "./validation.ts";
import type { TurnWaiters } from "./waiters.ts";

export interface TurnDeps {
  db: Database;
  transactions: Transactions;
  bus: EventBus;
  waiters: TurnWaiters;
  /** Told of each turn's beginning and end once committed (its time limit, say). */
  observer?: TurnObserver;
}

/** What one model call used, its model known (the agent's own when the call did not say). */
export type Usage = Omit<Extract<AgentEvent, { type: "usage" }>, "type" | "model"> & {
  model: string;
};

/**
 * An agent's turns: each prompt opens one; the agent's events start, answer, fail or cancel
 * it. An event names its turn by id, or (agents that answer in order) means the oldest turn
 * still open; an id that names no open turn touches none. Callers waiting on a turn are woken
 * once its end is committed.
 */
export class AgentTurns {
  constructor(private readonly deps: TurnDeps) {}

  /**
   * A prompt for the agent: a turn waiting for its answer (under the caller's id, or a new
   * one), and the user's side of the conversation.
   */
  open(agentId: string, input: Pick<SendInput, "message" | "turn_id" | "metadata">): Prompt {
    const turnId =
      input.turn_id === undefined ? `turn-${shortRandom(12)}` : checkTurnId(input.turn_id);
    if (turnExists(this.deps.db, agentId, turnId)) {
      throw new ConflictError(
        `agent ${agentId} already has a turn "${turnId}"; turn ids are unique per agent`,
      );
    }
    const prompt = { turn_id: turnId, input: input.message, metadata: input.metadata ?? null };
    insertTurn(this.deps.db, { agent_id: agentId, id: turnId, ...prompt });
    insertMessage(this.deps.db, agentId, { role: "user", content: prompt.input, turn_id: turnId });
    this.deps.bus.record(agentId, "turn.queued", { turn_id: turnId });
    this.observe((observer) => observer.opened(agentId, turnId));
    return prompt;
  }

  get(agentId: string, turnId: string): TurnRecord {
    const turn = getTurn(this.deps.db, agentId, turnId);
    if (!turn) throw new NotFoundError(`agent ${agentId} has no turn "${turnId}"`);
    return turn;
  }

  /** Newest first. */
  page(agentId: string, page: TurnPage): TurnRecord[] {
    if (page.before !== undefined && !turnExists(this.deps.db, agentId, page.before)) {
      throw new NotFoundError(`agent ${agentId} has no turn "${page.before}"`);
    }
    return listTurns(this.deps.db, agentId, page);
  }

  /**
   * The turn once it has ended, or as it stands when timeoutMs runs out. The wait begins
   * before this returns, so an answer that comes at once is not missed.
   */
  async ended(agentId: string, turnId: string, timeoutMs: number | null): Promise<TurnRecord> {
    const turn = this.get(agentId, turnId);
    if (!isOpenTurn(turn)) return turn;
    await this.deps.waiters.wait(agentId, turnId, timeoutMs);
    return this.get(agentId, turnId);
  }

  started(agentId: string, turnId: string | undefined): void {
    const turn = this.find(agentId, turnId);
    if (turn?.status === "queued") {
      updateTurn(this.deps.db, agentId, turn.id, { status: "running", started_at: nowIso() });
      this.observe((observer) => observer.started(agentId, turn.id));
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

  /**
   * Tokens and cost of one model call: the agent's totals, the turn under way, and the usage
   * ledger. Returns the agent's spending after it.
   */
  usage(agent: Pick<AgentRecord, "id" | "protocol">, usage: Usage): Spending | null {
    const { db } = this.deps;
    const spending = addAgentUsage(db, agent.id, usage);
    const turn = oldestOpenTurn(db, agent.id);
    if (turn) addTurnUsage(db, agent.id, turn.id, usage);
    const turnId = turn?.id ?? null;
    insertUsage(db, { ...usage, agent_id: agent.id, turn_id: turnId, protocol: agent.protocol });
    this.deps.bus.record(agent.id, "usage", { ...usage, turn_id: turnId });
    return spending;
  }

  /** The turns still waiting for their answers, oldest first. */
  openIds(agentId: string): string[] {
    return openTurnIds(this.deps.db, agentId);
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

  /** The turn ended: whoever waits for it wakes up, and the observer hears. */
  private wake(agentId: string, turnId: string): void {
    this.deps.transactions.afterCommit(() => this.deps.waiters.settle(agentId, turnId));
    this.observe((observer) => observer.ended(agentId, turnId));
  }

  private observe(tell: (observer: TurnObserver) => void): void {
    const { observer } = this.deps;
    if (observer) this.deps.transactions.afterCommit(() => tell(observer));
  }

  /** The open turn an event is about: the one it names, else the oldest one still open. */
  private find(agentId: string, turnId: string | undefined): TurnRecord | null {
    if (turnId === undefined) return oldestOpenTurn(this.deps.db, agentId);
    const named = getTurn(this.deps.db, agentId, turnId);
    return named && isOpenTurn(named) ? named : null;
  }
}

/** What a sender waiting for its turn hears: how it ended, or that it is still going. */
export function outcomeOf(turn: TurnRecord): SendResult {
  switch (turn.status) {
    case "completed":
      return { status: "completed", turn_id: turn.id, response: turn.response };
    case "cancelled":
      return { status: "cancelled", turn_id: turn.id, error: turn.error };
    case "error":
      return { status: "error", turn_id: turn.id, error: turn.error };
    default:
      return { status: "timeout", turn_id: turn.id };
  }
}
