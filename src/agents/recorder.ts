import type { Database } from "bun:sqlite";
import { errorMessage } from "../errors.ts";
import type { EventBus } from "../events/bus.ts";
import { log } from "../log.ts";
import type { AgentEvent } from "../protocols/session.ts";
import { getAgent } from "../store/agents.ts";
import type { Transactions } from "../store/transactions.ts";
import type { WebhookOutbox } from "../webhooks/outbox.ts";
import type { AgentLifecycle } from "./lifecycle.ts";
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
}

/**
 * Applies what a protocol session reports about an agent to everything downstream: turns,
 * conversation, usage, status, events, webhooks and the title. Protocol-free: it knows only
 * AgentEvents. Each batch lands in one transaction.
 */
export class AgentRecorder {
  constructor(private readonly deps: RecorderDeps) {}

  /**
   * Apply one batch of an agent's events; `alongside` writes in the same transaction (a
   * persistent agent's file offset). A batch that cannot be written is logged and dropped:
   * the agent's reader must keep reading, or the agent would block on a full pipe.
   */
  apply(agentId: string, events: AgentEvent[], alongside?: () => void): void {
    if (events.length === 0 && alongside === undefined) return;
    try {
      this.deps.transactions.run(() => {
        if (!getAgent(this.deps.db, agentId)) return;
        for (const event of events) this.applyOne(agentId, event);
        alongside?.();
      });
    } catch (error) {
      log.error(`${agentId}: could not record ${events.length} event(s): ${errorMessage(error)}`);
    }
  }

  private applyOne(agentId: string, event: AgentEvent): void {
    const { turns, lifecycle } = this.deps;
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
        const turn = turns.failed(agentId, event.turn_id, event.error);
        const agent = lifecycle.turnEnded(agentId);
        if (agent) this.deps.outbox.notify(agent, "error", turn?.id ?? null, event.error);
        return;
      }
      case "turn.cancelled":
        turns.cancelled(agentId, event.turn_id, event.reason);
        lifecycle.turnEnded(agentId);
        return;
      case "usage": {
        const { type: _type, ...usage } = event;
        turns.usage(agentId, usage);
        return;
      }
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

  private completed(agentId: string, turnId: string | undefined, response: string | null): void {
    const turn = this.deps.turns.completed(agentId, turnId, response);
    const summary = response === null ? undefined : [...response].slice(0, SUMMARY_CHARS).join("");
    const agent = this.deps.lifecycle.turnEnded(agentId, summary === undefined ? {} : { summary });
    if (!agent) return;
    this.deps.outbox.notify(agent, "idle", turn?.id ?? null, null);
    if (agent.title === null) {
      this.deps.titles.assign(agentId, agent.prompt ?? turn?.input ?? response ?? "", response);
    }
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
