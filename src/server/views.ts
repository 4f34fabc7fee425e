import { microToUsd } from "../agents/budget.ts";
import { centsOf } from "../agents/cost.ts";
import { TURN_STATUSES } from "../agents/status.ts";
import type { AgentView, TurnView } from "../api/schemas.ts";
import type { AgentRecord } from "../store/agents.ts";
import type { TurnCounts, TurnRecord } from "../store/turns.ts";

/** Records as the API shows them: internal fields left out, cents derived. */

/**
 * Field by field, in the schema's order: an object built so is written by JSON.stringify
 * several times faster than one made by spreading a record without some of its fields.
 */
export function agentView(agent: AgentRecord, turnCounts: TurnCounts): AgentView {
  return {
    id: agent.id,
    name: agent.name,
    title: agent.title,
    mode: agent.mode,
    protocol: agent.protocol,
    status: agent.status,
    command: agent.command,
    provider: agent.provider,
    model: agent.model,
    cwd: agent.cwd,
    workspace: agent.workspace,
    thinking: agent.thinking,
    extra_args: agent.extra_args,
    env: agent.env,
    webhook: agent.webhook,
    turn_envelope: agent.turn_envelope,
    pid: agent.pid,
    prompt: agent.prompt,
    summary: agent.summary,
    error: agent.error,
    exit_code: agent.exit_code,
    cost_micro_usd: agent.cost_micro_usd,
    cost_cents: centsOf(agent.cost_micro_usd),
    budget_usd: agent.budget_micro_usd === null ? null : microToUsd(agent.budget_micro_usd),
    budget_action: agent.budget_action,
    budget_state: agent.budget_state,
    input_tokens: agent.input_tokens,
    output_tokens: agent.output_tokens,
    turns: agent.turns,
    turn_counts: turnCounts,
    restarts: agent.restarts,
    permissions: agent.permissions,
    session_id: agent.session_id,
    restart: agent.restart,
    turn_timeout_s: agent.turn_timeout_s,
    turn_idle_timeout_s: agent.turn_idle_timeout_s,
    created_at: agent.created_at,
    started_at: agent.started_at,
    completed_at: agent.completed_at,
    updated_at: agent.updated_at,
  };
}

/** Each kept record's JSON, with the turn counts it was written with. */
const written = new WeakMap<AgentRecord, { counts: TurnCounts; json: string }>();

/**
 * The agent's view as JSON. A kept record (frozen: never changed) is written once for as long
 * as its turn counts stay the same, so the API's reads of unchanged agents cost no writing.
 */
export function agentJson(agent: AgentRecord, turnCounts: TurnCounts): string {
  const last = written.get(agent);
  if (last !== undefined && sameCounts(last.counts, turnCounts)) return last.json;
  const json = JSON.stringify(agentView(agent, turnCounts));
  if (Object.isFrozen(agent)) written.set(agent, { counts: turnCounts, json });
  return json;
}

function sameCounts(a: TurnCounts, b: TurnCounts): boolean {
  for (const status of TURN_STATUSES) if (a[status] !== b[status]) return false;
  return true;
}

/** The last array written, and what it was written from. */
let lastArray: { items: readonly string[]; json: string } | undefined;

/**
 * A JSON array of values written already. The same items as the last time give the same
 * string, not a new one: a list read again and again (a dashboard's, a script's) while its
 * agents stay the same is joined once, and megabytes are not copied for every request.
 */
export function jsonArray(items: readonly string[]): string {
  if (lastArray !== undefined && sameItems(lastArray.items, items)) return lastArray.json;
  const json = `[${items.join(",")}]`;
  lastArray = { items, json };
  return json;
}

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  // Each item is a kept record's JSON: the very same string while the record is unchanged.
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A JSON answer written already; the header is the one Elysia gives objects. */
export function jsonResponse(json: string, headers: Record<string, string> = {}): Response {
  return new Response(json, {
    headers: { "content-type": "application/json;charset=utf-8", ...headers },
  });
}

export function turnView(turn: TurnRecord): TurnView {
  const { position: _position, ...visible } = turn;
  return { ...visible, cost_cents: centsOf(turn.cost_micro_usd) };
}
