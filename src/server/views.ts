import { microToUsd } from "../agents/budget.ts";
import { centsOf } from "../agents/cost.ts";
import type { AgentView, TurnView } from "../api/schemas.ts";
import type { AgentRecord } from "../store/agents.ts";
import type { TurnCounts, TurnRecord } from "../store/turns.ts";

/** Records as the API shows them: internal fields left out, cents derived. */

export function agentView(agent: AgentRecord, turnCounts: TurnCounts): AgentView {
  const {
    events_offset: _offset,
    pid_start: _pidStart,
    budget_micro_usd: budget,
    ...visible
  } = agent;
  return {
    ...visible,
    cost_cents: centsOf(agent.cost_micro_usd),
    budget_usd: budget === null ? null : microToUsd(budget),
    turn_counts: turnCounts,
  };
}

export function turnView(turn: TurnRecord): TurnView {
  const { position: _position, ...visible } = turn;
  return { ...visible, cost_cents: centsOf(turn.cost_micro_usd) };
}
