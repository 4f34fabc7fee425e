import type { Database } from "bun:sqlite";
import { errorMessage } from "../errors.ts";
import type { EventBus } from "../events/bus.ts";
import { log } from "../log.ts";
import type { AgentEvent } from "../protocols/session.ts";
import { type AgentRecord, addAgentUsage, getAgent } from "../store/agents.ts";
import { StorageError } from "../store/database-health.ts";
import { addedUp, type Usage } from "../store/sql.ts";
import type { Transactions } from "../store/transactions.ts";
import type { WebhookOutbox } from "../webhooks/outbox.ts";
import type { BudgetGuard } from "./budget-guard.ts";
import type { AgentLifecycle } from "./lifecycle.ts";
import type { PriceTable } from "./prices.ts";
import type { TitleMaker } from "./title.ts";
import type { AgentTurns } from "./turns.ts";

export const SUMMARY_CHARS = 200;

export interface RecorderDeps {
  db: Database;
  transactions: Transactions;
  bus: EventBus;
  turns: AgentTurns;
  lifecycle: AgentLifecycle;
  outbox: WebhookOutbox;
  titles: TitleMaker;
  prices: PriceTable;
  budgets: BudgetGuard;
  /** Told how long each batch took to apply, from its arrival to its commit (metrics). */
  onApplied?: (seconds: number) => void;
  /** Told that the agent's own output arrived (its idle watchdog starts counting again). */
  heard?: (agentId: string) => void;
}

/**
 * Applies what a protocol session reports about an agent to everything downstream: turns,
 * conversation, usage, status, events, webhooks and the title. Protocol-free: it knows only
 * AgentEvents. Each batch lands in one transaction. Cost is priced here when the agent did not
 * report it, and budgets are checked here — on usage only, the one event that changes cost.
 */
export class AgentRecorder {
  /** Per agent, events that could not be stored, to be told as soon as something can be. */
  private readonly lost = new Map<string, LostEvents>();

  constructor(private readonly deps: RecorderDeps) {}

  /** A batch of the agent's own output (not agentd's events about it): applied, and heard. */
  applyOutput(agentId: string, events: AgentEvent[], alongside?: () => void): boolean {
    this.deps.heard?.(agentId);
    return this.apply(agentId, events, alongside);
  }

  /**
   * Apply one batch of an agent's events; `alongside` writes in the same transaction (a
   * persistent agent's file offset). Returns whether it was stored. A batch that cannot be
   * written is not retried here: the agent's reader must keep reading, or the agent would
   * block on a full pipe (a persistent agent's events are read again from its file).
   */
  apply(agentId: string, events: AgentEvent[], alongside?: () => void): boolean {
    if (events.length === 0 && alongside === undefined) return true;
    const began = performance.now();
    const lost = this.lost.get(agentId);
    try {
      this.deps.transactions.run(() => {
        const agent = getAgent(this.deps.db, agentId);
        if (!agent) return;
        if (lost) this.deps.bus.record(agentId, "log", { level: "error", message: lost.notice() });
        const spent = new UnaddedUsage();
        for (const event of events) {
          if (readsAgent(event)) this.addSpent(agentId, spent);
          this.applyOne(agent, event, spent);
        }
        this.addSpent(agentId, spent);
        alongside?.();
      });
    } catch (error) {
      if (error instanceof StorageError) {
        // Said once, by the database's health; what is lost is counted and told later.
        this.lost.set(agentId, (lost ?? new LostEvents(error.message)).add(events.length));
      } else {
        log.error(`${agentId}: could not record ${events.length} event(s): ${errorMessage(error)}`);
      }
      return false;
    }
    this.lost.delete(agentId);
    this.deps.onApplied?.((performance.now() - began) / 1000);
    return true;
  }

  /** `agent` is the record as the batch began: for what events do not change (model, protocol). */
  private applyOne(agent: AgentRecord, event: AgentEvent, spent: UnaddedUsage): void {
    const { turns, lifecycle } = this.deps;
    const agentId = agent.id;
    if (endsTurn(event) && turns.endedAlready(agentId, event.turn_id)) {
      log.debug(`${agentId}: ignored a second ${event.type} for turn ${event.turn_id}`);
      return;
    }
    switch (event.type) {
      case "turn.started":
        turns.started(agentId, event.turn_id);
        lifecycle.turnBegan(agentId);
        return;
      case "turn.completed":
        this.completed(agentId, event.turn_id, event.response);
        return;
      case "turn.failed": {
        const turnId = turns.failed(agentId, event.turn_id, event.error);
        const agent = lifecycle.turnEnded(agentId);
        if (agent) this.deps.outbox.notify(agent, "error", turnId, event.error);
        return;
      }
      case "turn.cancelled":
        turns.cancelled(agentId, event.turn_id, event.reason);
        lifecycle.turnEnded(agentId);
        return;
      case "usage":
        spent.add(this.usage(agent, event));
        return;
      case "session":
        lifecycle.update(agentId, { session_id: event.session_id });
        this.deps.bus.record(agentId, "session", { session_id: event.session_id });
        return;
      default: {
        const { type, ...data } = event;
        this.deps.bus.record(agentId, type, data);
      }
    }
  }

  /**
   * A call's model is the agent's own when it does not say; its cost, the price table's.
   * Returns what it adds to the agent's totals.
   */
  private usage(agent: AgentRecord, event: Extract<AgentEvent, { type: "usage" }>): Usage {
    const model = event.model ?? agent.model;
    const cost =
      event.cost_micro_usd ??
      this.deps.prices.costOf(model, event.input_tokens, event.output_tokens);
    const usage = {
      input_tokens: event.input_tokens,
      output_tokens: event.output_tokens,
      cost_micro_usd: cost,
    };
    this.deps.turns.usage(agent, { ...usage, model });
    return usage;
  }

  /**
   * The usage seen since the last time into the agent's totals, in one update, and its budget
   * checked on them: before anything that reads or writes the agent's row, and at the end.
   */
  private addSpent(agentId: string, spent: UnaddedUsage): void {
    const usage = spent.take();
    if (usage === null) return;
    const spending = addAgentUsage(this.deps.db, agentId, usage);
    if (spending) this.deps.budgets.spent(agentId, spending);
  }

  private completed(agentId: string, named: string | undefined, response: string | null): void {
    const { turns, lifecycle } = this.deps;
    const turnId = turns.completed(agentId, named, response);
    const summary = response === null ? undefined : [...response].slice(0, SUMMARY_CHARS).join("");
    const agent = lifecycle.turnEnded(agentId, summary === undefined ? {} : { summary });
    if (!agent) return;
    this.deps.outbox.notify(agent, "idle", turnId, null);
    if (agent.title === null) {
      const input = turnId === null ? undefined : turns.get(agentId, turnId).input;
      this.deps.titles.assign(agentId, agent.prompt ?? input ?? response ?? "", response);
    }
  }
}

/** Events whose handling reads or writes the agent's row (the others are only recorded). */
function readsAgent(event: AgentEvent): boolean {
  return event.type.startsWith("turn.") || event.type === "session";
}

/** Usage of a batch not yet added to its agent's totals. */
class UnaddedUsage {
  private sum: Usage | null = null;

  add(usage: Usage): void {
    this.sum = this.sum === null ? { ...usage } : addedUp(this.sum, usage);
  }

  take(): Usage | null {
    const sum = this.sum;
    this.sum = null;
    return sum;
  }
}

function endsTurn(
  event: AgentEvent,
): event is Extract<AgentEvent, { type: "turn.completed" | "turn.failed" | "turn.cancelled" }> {
  return (
    event.type === "turn.completed" ||
    event.type === "turn.failed" ||
    event.type === "turn.cancelled"
  );
}

/** Events of one agent that could not be stored while the database could not be written. */
class LostEvents {
  private count = 0;
  private readonly since = new Date().toISOString();

  constructor(private readonly reason: string) {}

  add(events: number): this {
    this.count += events;
    return this;
  }

  notice(): string {
    return `${this.count} event(s) of this agent since ${this.since} were not recorded: ${this.reason}`;
  }
}
