import type { Database } from "bun:sqlite";
import type { SendInput, SendResult } from "../api/schemas.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import type { EventBus } from "../events/bus.ts";
import type { AgentEvent, Prompt } from "../protocols/session.ts";
import { type AgentRecord, incrementAgentTurns } from "../store/agents.ts";
import { insertMessage } from "../store/messages.ts";
import { PendingWrites } from "../store/pending-writes.ts";
import { addedUp } from "../store/sql.ts";
import { nowIso } from "../store/time.ts";
import type { Transactions } from "../store/transactions.ts";
import {
  addTurnUsage,
  closeOpenTurns,
  countTurnsByStatus,
  getTurn,
  insertTurn,
  lastTurnPosition,
  listTurns,
  noTurns,
  type OpenTurn,
  openTurns,
  type TurnCounts,
  type TurnPage,
  type TurnRecord,
  turnExists,
  updateTurn,
} from "../store/turns.ts";
import { insertUsages, type UsageEntry } from "../store/usage.ts";
import type { TurnStatus } from "./status.ts";
import type { TurnObserver } from "./turn-limits.ts";
import { TurnState } from "./turn-state.ts";
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
 *
 * Each agent's open turns (id and status, oldest first), its counts of turns by status and its
 * newest turn's position are read from the store once and then kept in memory (`TurnState`), so
 * that an event needs no query to find its turn, an agent's answer none to count its turns, and
 * a prompt none to place its turn. They stay true because
 * turns are opened, started and ended only here: each such write changes them too, a rollback
 * of the transaction that wrote makes them be read again, and a removed agent's are forgotten.
 */
export class AgentTurns {
  private readonly states = new Map<string, TurnState>();
  /**
   * The model calls of the transaction under way, for their turns' totals and the usage
   * ledger: written together at its end (nothing reads those inside it).
   */
  private readonly unwrittenUsage: PendingWrites<LedgerEntry>;

  constructor(private readonly deps: TurnDeps) {
    this.unwrittenUsage = new PendingWrites(deps.transactions, "usage", (entries) =>
      this.writeUsage(entries),
    );
  }

  /**
   * A prompt for the agent: a turn waiting for its answer (under the caller's id, or a new
   * one), and the user's side of the conversation.
   */
  open(agentId: string, input: Pick<SendInput, "message" | "turn_id" | "metadata">): Prompt {
    // 12 random characters of 36 (62 bits) repeat no id an agent has: only a caller's is looked up.
    const turnId =
      input.turn_id === undefined ? `turn-${shortRandom(12)}` : checkTurnId(input.turn_id);
    if (input.turn_id !== undefined && turnExists(this.deps.db, agentId, turnId)) {
      throw new ConflictError(
        `agent ${agentId} already has a turn "${turnId}"; turn ids are unique per agent`,
      );
    }
    const prompt = { turn_id: turnId, input: input.message, metadata: input.metadata ?? null };
    const state = this.stateOf(agentId);
    insertTurn(this.deps.db, {
      agent_id: agentId,
      id: turnId,
      position: state.nextPosition,
      ...prompt,
    });
    this.changing(agentId, state).opened(turnId);
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
    // Whether it is still open is known without a query.
    if (this.stateOf(agentId).find(turnId)) {
      await this.deps.waiters.wait(agentId, turnId, timeoutMs);
    }
    return this.get(agentId, turnId);
  }

  started(agentId: string, turnId: string | undefined): void {
    const turn = this.find(agentId, turnId);
    if (turn?.status === "queued") {
      updateTurn(this.deps.db, agentId, turn.id, { status: "running", started_at: nowIso() });
      this.changing(agentId, this.stateOf(agentId)).started(turn);
      this.observe((observer) => observer.started(agentId, turn.id));
    }
    this.deps.bus.record(agentId, "turn.started", { turn_id: turn?.id ?? turnId ?? null });
  }

  /** The agent answered; returns the id of the turn it answered, when known. */
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
    if (turn) this.finish(agentId, turn, "completed", { response });
    this.deps.bus.record(agentId, "turn.completed", {
      turn_id: turn?.id ?? turnId ?? null,
      response,
    });
    return turn?.id ?? null;
  }

  /** The turn failed; returns its id, when known. */
  failed(agentId: string, turnId: string | undefined, error: string): string | null {
    const turn = this.find(agentId, turnId);
    if (turn) this.finish(agentId, turn, "error", { error });
    this.deps.bus.record(agentId, "turn.failed", { turn_id: turn?.id ?? turnId ?? null, error });
    return turn?.id ?? null;
  }

  cancelled(agentId: string, turnId: string | undefined, reason: string): string | null {
    const turn = this.find(agentId, turnId);
    if (turn) this.finish(agentId, turn, "cancelled", { error: reason });
    this.deps.bus.record(agentId, "turn.cancelled", {
      turn_id: turn?.id ?? turnId ?? null,
      reason,
    });
    return turn?.id ?? null;
  }

  /**
   * Tokens and cost of one model call, into the turn under way and the usage ledger. The
   * agent's own totals are the recorder's to add, for all the calls of a batch at once.
   */
  usage(agent: Pick<AgentRecord, "id" | "protocol">, usage: Usage): void {
    const turnId = this.stateOf(agent.id).open[0]?.id ?? null;
    this.unwrittenUsage.add({
      ...usage,
      agent_id: agent.id,
      turn_id: turnId,
      protocol: agent.protocol,
      created_at: nowIso(),
    });
    this.deps.bus.record(agent.id, "usage", { ...usage, turn_id: turnId });
  }

  /** The turns still waiting for their answers, oldest first. */
  openIds(agentId: string): string[] {
    return this.stateOf(agentId).open.map((turn) => turn.id);
  }

  /** The agent's turns, by status. */
  counts(agentId: string): TurnCounts {
    return this.stateOf(agentId).countsByStatus();
  }

  /** Every open turn ends: its agent's process is gone. */
  closeOpen(agentId: string, status: "error" | "cancelled", reason: string): void {
    const state = this.stateOf(agentId);
    if (state.open.length === 0) return;
    closeOpenTurns(this.deps.db, agentId, status, reason);
    const closed = this.changing(agentId, state).endedAll(status);
    for (const turn of closed) this.announceEnd(agentId, turn.id, status, reason);
  }

  /** The id names a turn that has already ended: an event about it is a repeat. */
  endedAlready(agentId: string, turnId: string | undefined): boolean {
    if (turnId === undefined) return false;
    if (this.stateOf(agentId).find(turnId)) return false;
    return turnExists(this.deps.db, agentId, turnId);
  }

  hasOpen(agentId: string): boolean {
    return this.stateOf(agentId).open.length > 0;
  }

  /** A new agent: it has no turns, which is known without asking the store. */
  created(agentId: string): void {
    const state = new TurnState([], noTurns(), 0);
    this.states.set(agentId, state);
    this.changing(agentId, state);
  }

  /** The agent was removed, with its turns. */
  forget(agentId: string): void {
    this.states.delete(agentId);
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
    agentId: string,
    turn: OpenTurn,
    status: TurnStatus,
    fields: { response?: string | null; error?: string },
  ): void {
    updateTurn(this.deps.db, agentId, turn.id, { status, completed_at: nowIso(), ...fields });
    this.changing(agentId, this.stateOf(agentId)).ended(turn, status);
    this.wake(agentId, turn.id);
  }

  /** Model calls into their turns' totals (one update per turn) and into the ledger. */
  private writeUsage(entries: LedgerEntry[]): void {
    const turns = new Map<string, LedgerEntry>();
    for (const entry of entries) {
      if (entry.turn_id === null) continue;
      const key = `${entry.agent_id}\n${entry.turn_id}`;
      const before = turns.get(key);
      turns.set(key, before ? { ...entry, ...addedUp(before, entry) } : entry);
    }
    for (const turn of turns.values()) {
      addTurnUsage(this.deps.db, turn.agent_id, turn.turn_id as string, turn);
    }
    insertUsages(this.deps.db, entries);
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
  private find(agentId: string, turnId: string | undefined): OpenTurn | null {
    const state = this.stateOf(agentId);
    if (turnId === undefined) return state.open[0] ?? null;
    return state.find(turnId) ?? null;
  }

  /** What is known of the agent's turns: from memory, or from the store the first time. */
  private stateOf(agentId: string): TurnState {
    let state = this.states.get(agentId);
    if (state === undefined) {
      const { db } = this.deps;
      const counts = countTurnsByStatus(db, agentId);
      state = new TurnState(openTurns(db, agentId), counts, lastTurnPosition(db, agentId));
      this.states.set(agentId, state);
    }
    return state;
  }

  /**
   * `state` is about to change with a write: should the transaction roll back, it is read
   * from the store again.
   */
  private changing(agentId: string, state: TurnState): TurnState {
    this.deps.transactions.onRollback(() => {
      if (this.states.get(agentId) === state) this.states.delete(agentId);
    }, `turns of ${agentId}`);
    return state;
  }
}

type LedgerEntry = UsageEntry & { created_at: string };

/** Two calls' usage together; a cost is unknown only when neither is known, as in the store. */
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
