import type { Database } from "bun:sqlite";
import { errorMessage } from "../errors.ts";
import type { EventBus } from "../events/bus.ts";
import { log } from "../log.ts";
import type { ProtocolRegistry } from "../protocols/index.ts";
import type { AgentRuntime } from "../runtimes/runtime.ts";
import { type AgentRecord, getAgent } from "../store/agents.ts";
import { takesPrompts } from "./status.ts";
import type { AgentTurns } from "./turns.ts";

export interface InterruptsDeps {
  db: Database;
  bus: EventBus;
  turns: AgentTurns;
  protocols: ProtocolRegistry;
  runtimeOf: (agent: AgentRecord) => AgentRuntime;
}

/**
 * Turns that agentd itself wants abandoned — the agent went silent, its budget ran out — asked
 * of the agent with its protocol's own interrupt; the agent keeps running.
 */
export class TurnInterrupts {
  constructor(private readonly deps: InterruptsDeps) {}

  /**
   * The agent's budget ran out while a turn was under way: with `budget_action: cancel`, its
   * open turns are cancelled where the protocol can; otherwise they finish.
   */
  async budgetExhausted(id: string): Promise<void> {
    if (getAgent(this.deps.db, id)?.budget_action !== "cancel") return;
    await this.interrupt(id, this.deps.turns.openIds(id), "budget exhausted");
  }

  /**
   * Ask the agent to abandon these turns. Where its protocol cannot, an event says so and the
   * turns go on. `why` names the reason, for that event.
   */
  async interrupt(id: string, turnIds: string[], why: string): Promise<void> {
    const agent = getAgent(this.deps.db, id);
    if (!agent || !takesPrompts(agent.status) || turnIds.length === 0) return;
    if (!this.deps.protocols.get(agent.protocol)?.capabilities.cancel) {
      this.deps.bus.record(id, "log", {
        level: "warn",
        message: `${why}: ${agent.protocol} cannot cancel a turn, so the running turn finishes`,
      });
      return;
    }
    for (const turnId of turnIds) {
      await this.deps
        .runtimeOf(agent)
        .cancel(agent, turnId)
        .catch((error) => {
          log.warn(`${id}: cancelling turn ${turnId} (${why}) failed: ${errorMessage(error)}`);
        });
    }
  }
}
