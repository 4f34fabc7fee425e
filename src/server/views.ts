import { t } from "elysia";
import { centsOf } from "../agents/state.ts";
import type { AgentRecord } from "../store/agents.ts";
import type { TurnRecord } from "../store/turns.ts";

export const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(schema: T) =>
  t.Union([schema, t.Null()]);

export const AgentSchema = t.Object({
  id: t.String(),
  name: t.String(),
  title: Nullable(t.String()),
  mode: t.String(),
  protocol: t.String(),
  status: t.String(),
  command: Nullable(t.Array(t.String())),
  provider: t.String(),
  model: t.String(),
  cwd: t.String(),
  workspace: Nullable(t.String()),
  thinking: Nullable(t.String()),
  extra_args: t.Array(t.String()),
  env: t.Record(t.String(), t.String()),
  webhook: Nullable(t.String()),
  turn_envelope: t.Boolean(),
  pid: Nullable(t.Integer()),
  prompt: Nullable(t.String()),
  summary: Nullable(t.String()),
  error: Nullable(t.String()),
  exit_code: Nullable(t.Integer()),
  cost_micro_usd: Nullable(t.Integer()),
  cost_cents: Nullable(t.Number()),
  input_tokens: t.Integer(),
  output_tokens: t.Integer(),
  turns: t.Integer(),
  restarts: t.Integer(),
  created_at: t.String(),
  started_at: Nullable(t.String()),
  completed_at: Nullable(t.String()),
  updated_at: t.String(),
});

export const TurnSchema = t.Object({
  id: t.String(),
  agent_id: t.String(),
  input: t.String(),
  status: t.String(),
  response: Nullable(t.String()),
  error: Nullable(t.String()),
  metadata: Nullable(t.Record(t.String(), t.Unknown())),
  input_tokens: t.Integer(),
  output_tokens: t.Integer(),
  cost_micro_usd: Nullable(t.Integer()),
  cost_cents: Nullable(t.Number()),
  created_at: t.String(),
  started_at: Nullable(t.String()),
  completed_at: Nullable(t.String()),
});

export function agentView(agent: AgentRecord) {
  const { events_offset: _offset, ...visible } = agent;
  return { ...visible, cost_cents: centsOf(agent.cost_micro_usd) };
}

export function turnView(turn: TurnRecord) {
  const { position: _position, ...visible } = turn;
  return { ...visible, cost_cents: centsOf(turn.cost_micro_usd) };
}
