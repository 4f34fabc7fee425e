import type { Database } from "bun:sqlite";
import type { EventBus } from "../events/bus.ts";
import { log } from "../log.ts";
import type { AgentEvent } from "../protocols/events.ts";
import {
  type AgentPatch,
  type AgentRecord,
  type AgentStatus,
  addAgentUsage,
  getAgent,
  incrementAgentTurns,
  insertAgent,
  type NewAgent,
  updateAgent,
} from "../store/agents.ts";
import { insertMessage } from "../store/messages.ts";
import { nowIso } from "../store/time.ts";
import {
  addTurnUsage,
  closeOpenTurns,
  getTurn,
  isOpenTurn,
  oldestOpenTurn,
  type TurnRecord,
  type TurnStatus,
  updateTurn,
} from "../store/turns.ts";
import type { WebhookEvent, WebhookOutbox } from "../webhooks/outbox.ts";
import type { TitleMaker } from "./title.ts";
import type { TurnWaiters } from "./waiters.ts";

export const SUMMARY_CHARS = 200;
/** Turns that fail with this error were cancelled by a person: no "error" webhook for them. */
export const CANCELLED_BY_USER = "Cancelled by user";

export interface StateDeps {
  db: Database;
  bus: EventBus;
  outbox: WebhookOutbox;
  titles: TitleMaker;
  waiters: TurnWaiters;
}

/**
 * Applies what happens to agents — their AgentEvents and their lifecycle — to the stored state:
 * turns, conversation, usage, status, events and webhooks. The same for every mode.
 */
export class AgentState {
  private readonly db: Database;
  /** Agents whose last turn event was a completion: a second one without turn_id is a repeat. */
  private readonly justCompleted = new Set<string>();

  constructor(private readonly deps: StateDeps) {
    this.db = deps.db;
  }

  apply(agentId: string, event: AgentEvent): void {
    const agent = getAgent(this.db, agentId);
    if (!agent) return;
    switch (event.type) {
      case "turn.started":
        this.turnStarted(agent, ourTurnId(agent, event.turn_id));
        break;
      case "turn.completed":
        this.turnCompleted(agent, ourTurnId(agent, event.turn_id), event.response);
        break;
      case "turn.failed":
        this.turnFailed(agent, ourTurnId(agent, event.turn_id), event.error);
        break;
      case "usage":
        this.usage(agent, event);
        break;
      default:
        this.deps.bus.record(agentId, event.type, eventData(event));
    }
  }

  /** A new agent: its row, and its first status as an event. */
  insert(agent: NewAgent): AgentRecord {
    const record = insertAgent(this.db, agent);
    this.deps.bus.record(record.id, "status", { status: record.status, previous: null });
    return record;
  }

  /** Change status (with any other fields), record it as an event, and fire its webhook. */
  setStatus(agentId: string, status: AgentStatus, patch: AgentPatch = {}): AgentRecord | null {
    const before = getAgent(this.db, agentId);
    if (!before) return null;
    const after = updateAgent(this.db, agentId, { ...patch, status });
    if (!after) return null;
    if (before.status !== status) {
      this.deps.bus.record(agentId, "status", {
        status,
        previous: before.status,
        ...(after.error && status === "failed" ? { error: after.error } : {}),
      });
      if (status === "stopped" || status === "completed" || status === "failed") {
        this.notify(after, status, null, status === "failed" ? after.error : null);
      }
    }
    return after;
  }

  record(agentId: string, type: string, data: Record<string, unknown>): void {
    this.deps.bus.record(agentId, type, data);
  }

  /** A prompt reached the agent: record the user's message and mark the agent busy. */
  delivered(agent: AgentRecord, turn: TurnRecord): void {
    insertMessage(this.db, agent.id, { role: "user", content: turn.input, turn_id: turn.id });
    this.deps.bus.record(agent.id, "turn.queued", { turn_id: turn.id });
    if (agent.status === "idle" || agent.status === "starting") this.setStatus(agent.id, "running");
  }

  /** A prompt could not be delivered: the turn ends with that error. */
  undelivered(agentId: string, turnId: string, error: string): void {
    this.finishTurn(agentId, turnId, "error", { error });
  }

  /** The agent's process is gone: every open turn ends, and waiting callers are released. */
  closeTurns(agentId: string, status: TurnStatus, error: string): void {
    for (const turnId of closeOpenTurns(this.db, agentId, status, error)) {
      this.deps.bus.record(agentId, "turn.failed", { turn_id: turnId, error });
      this.deps.waiters.settle(agentId, turnId);
    }
    this.justCompleted.delete(agentId);
  }

  forget(agentId: string): void {
    this.justCompleted.delete(agentId);
  }

  private turnStarted(agent: AgentRecord, turnId: string | undefined): void {
    this.justCompleted.delete(agent.id);
    const turn = this.findTurn(agent.id, turnId);
    if (turn && turn.status === "queued") {
      updateTurn(this.db, agent.id, turn.id, { status: "running", started_at: nowIso() });
    }
    this.deps.bus.record(agent.id, "turn.started", { turn_id: turn?.id ?? turnId ?? null });
    if (agent.status === "idle" || agent.status === "starting") this.setStatus(agent.id, "running");
  }

  private turnCompleted(
    agent: AgentRecord,
    turnId: string | undefined,
    response: string | null,
  ): void {
    if (
      turnId === undefined &&
      this.justCompleted.has(agent.id) &&
      !this.hasRunningTurn(agent.id)
    ) {
      log.debug(`${agent.id}: second completion for the same turn ignored`);
      return;
    }
    this.justCompleted.add(agent.id);
    const turn = this.findTurn(agent.id, turnId);
    const summary =
      response === null ? agent.summary : [...response].slice(0, SUMMARY_CHARS).join("");
    if (response !== null) {
      insertMessage(this.db, agent.id, {
        role: "assistant",
        content: response,
        turn_id: turn?.id ?? null,
      });
    }
    incrementAgentTurns(this.db, agent.id);
    if (turn) this.finishTurn(agent.id, turn.id, "completed", { response });
    this.deps.bus.record(agent.id, "turn.completed", {
      turn_id: turn?.id ?? turnId ?? null,
      response,
    });
    const after = this.settleStatus(agent.id, { summary });
    if (after) this.notify(after, "idle", turn?.id ?? null, null);
    if (after && after.title === null) {
      this.deps.titles.assign(agent.id, agent.prompt ?? turn?.input ?? response ?? "", response);
    }
  }

  private turnFailed(agent: AgentRecord, turnId: string | undefined, error: string): void {
    this.justCompleted.delete(agent.id);
    const turn = this.findTurn(agent.id, turnId);
    if (turn) this.finishTurn(agent.id, turn.id, "error", { error });
    this.deps.bus.record(agent.id, "turn.failed", { turn_id: turn?.id ?? turnId ?? null, error });
    const after = this.settleStatus(agent.id, {});
    if (after && error !== CANCELLED_BY_USER) this.notify(after, "error", turn?.id ?? null, error);
  }

  private usage(agent: AgentRecord, event: Extract<AgentEvent, { type: "usage" }>): void {
    const usage = {
      input_tokens: event.input_tokens,
      output_tokens: event.output_tokens,
      cost_micro_usd: event.cost_micro_usd,
    };
    addAgentUsage(this.db, agent.id, usage);
    const turn = this.currentTurn(agent.id);
    if (turn) addTurnUsage(this.db, agent.id, turn.id, usage);
    this.deps.bus.record(agent.id, "usage", { ...eventData(event), turn_id: turn?.id ?? null });
  }

  /** After a turn ends: idle when nothing else is in flight. */
  private settleStatus(agentId: string, patch: AgentPatch): AgentRecord | null {
    const current = getAgent(this.db, agentId);
    if (!current) return null;
    const busy = oldestOpenTurn(this.db, agentId) !== null;
    const live =
      current.status === "running" || current.status === "idle" || current.status === "starting";
    if (live && !busy) return this.setStatus(agentId, "idle", patch);
    return updateAgent(this.db, agentId, patch);
  }

  private finishTurn(
    agentId: string,
    turnId: string,
    status: TurnStatus,
    fields: { response?: string | null; error?: string },
  ): void {
    updateTurn(this.db, agentId, turnId, { status, completed_at: nowIso(), ...fields });
    this.deps.waiters.settle(agentId, turnId);
  }

  /**
   * The turn an event is about: the open one it names (none if that is unknown or over), else
   * (agents that do not echo turn ids) the oldest one still open — they answer in order.
   */
  private findTurn(agentId: string, turnId: string | undefined): TurnRecord | null {
    if (turnId === undefined) return oldestOpenTurn(this.db, agentId);
    const named = getTurn(this.db, agentId, turnId);
    return named && isOpenTurn(named) ? named : null;
  }

  private hasRunningTurn(agentId: string): boolean {
    return oldestOpenTurn(this.db, agentId)?.status === "running";
  }

  private currentTurn(agentId: string): TurnRecord | null {
    return oldestOpenTurn(this.db, agentId);
  }

  private notify(
    agent: AgentRecord,
    event: WebhookEvent,
    turnId: string | null,
    error: string | null,
  ): void {
    if (!agent.webhook) return;
    this.deps.outbox.enqueue(agent.webhook, {
      event,
      agent_id: agent.id,
      turn_id: turnId,
      summary: agent.summary,
      cost_micro_usd: agent.cost_micro_usd,
      cost_cents: centsOf(agent.cost_micro_usd),
      error,
    });
  }
}

/**
 * A turn id in an agent's event names one of our turns only when we sent it in an envelope;
 * an agent on raw prompts may use ids of its own, which mean nothing here.
 */
function ourTurnId(agent: AgentRecord, turnId: string | undefined): string | undefined {
  return agent.turn_envelope ? turnId : undefined;
}

export function centsOf(microUsd: number | null): number | null {
  return microUsd === null ? null : microUsd / 10_000;
}

function eventData(event: AgentEvent): Record<string, unknown> {
  const { type: _type, ...data } = event;
  return data;
}
