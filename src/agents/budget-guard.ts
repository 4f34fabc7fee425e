import type { Database } from "bun:sqlite";
import { AgentdError } from "../errors.ts";
import type { EventBus } from "../events/bus.ts";
import { type AgentRecord, type Spending, updateAgent } from "../store/agents.ts";
import type { Transactions } from "../store/transactions.ts";
import type { WebhookOutbox } from "../webhooks/outbox.ts";
import { type BudgetState, budgetRank, budgetStateOf, formatUsd } from "./budget.ts";

export interface BudgetGuardDeps {
  db: Database;
  transactions: Transactions;
  bus: EventBus;
  outbox: WebhookOutbox;
}

/** A prompt refused because the agent has spent its budget. */
export class BudgetExhaustedError extends AgentdError {
  constructor(agent: Pick<AgentRecord, "id" | "cost_micro_usd" | "budget_micro_usd">) {
    const spent = agent.cost_micro_usd ?? 0;
    const allowed = agent.budget_micro_usd ?? 0;
    super(
      409,
      "budget_exhausted",
      `agent ${agent.id} has spent ${formatUsd(spent)} of its ${formatUsd(allowed)} budget; raise it to send more (agentd set ${agent.id} budget_usd=…, or PATCH /agents/${agent.id} {"budget_usd": …})`,
      { spent_micro_usd: spent, budget_micro_usd: allowed },
    );
  }
}

/**
 * Holds agents to their budgets. Spending changes only with usage, so it is checked there,
 * on the totals the usage update returns; a budget changed by PATCH is checked at once. Each
 * state an agent enters is announced once: a `budget` event, and a webhook for `warning` and
 * `exhausted`. What happens to a turn under way is the service's (`onExhausted`).
 */
export class BudgetGuard {
  /** Called after the commit that exhausted an agent's budget. */
  onExhausted: (agentId: string) => void = () => {};

  constructor(private readonly deps: BudgetGuardDeps) {}

  /** Usage was added: announce a state the agent has newly risen to. */
  spent(agentId: string, spending: Spending): void {
    const state = budgetStateOf(spending.cost_micro_usd, spending.budget_micro_usd);
    if (budgetRank(state) > budgetRank(spending.budget_state)) {
      this.enter(agentId, spending.budget_state, state);
    }
  }

  /** The budget itself changed: the state follows it, down (a raise lifts it) or up. */
  rebudgeted(agent: AgentRecord): void {
    const state = budgetStateOf(agent.cost_micro_usd, agent.budget_micro_usd);
    if (state !== agent.budget_state) this.enter(agent.id, agent.budget_state, state);
  }

  /** Refuses a prompt for an agent whose budget is spent. */
  checkPrompt(agent: AgentRecord): void {
    if (budgetStateOf(agent.cost_micro_usd, agent.budget_micro_usd) === "exhausted") {
      throw new BudgetExhaustedError(agent);
    }
  }

  private enter(agentId: string, previous: BudgetState, state: BudgetState): void {
    const agent = updateAgent(this.deps.db, agentId, { budget_state: state });
    if (!agent) return;
    this.deps.bus.record(agentId, "budget", {
      state,
      previous,
      spent_micro_usd: agent.cost_micro_usd ?? 0,
      budget_micro_usd: agent.budget_micro_usd,
      action: agent.budget_action,
    });
    if (budgetRank(state) <= budgetRank(previous)) return;
    if (state === "warning") this.deps.outbox.notify(agent, "budget_warning", null, null);
    if (state === "exhausted") {
      this.deps.outbox.notify(agent, "budget_exhausted", null, null);
      this.deps.transactions.afterCommit(() => this.onExhausted(agentId));
    }
  }
}
