import type { Database } from "bun:sqlite";
import type { BudgetAction, BudgetState } from "../agents/budget.ts";
import type { AgentMode, AgentStatus, PermissionPolicy, RestartPolicy } from "../agents/status.ts";
import {
  type AgentListing,
  type AgentPosition,
  forgetAgent,
  keepAgent,
  keepListing,
  keptAgent,
  keptListing,
} from "./agent-records.ts";
import { ADD_USAGE_SET, type Params, run, type Usage, usageParams } from "./sql.ts";
import { nowIso } from "./time.ts";
import { type AgentWorkspace, WORKSPACE_OF_AGENT } from "./workspaces.ts";

export interface AgentRecord {
  id: string;
  name: string;
  title: string | null;
  mode: AgentMode;
  protocol: string;
  status: AgentStatus;
  command: string[] | null;
  provider: string;
  model: string;
  cwd: string;
  /** Where the agent works (its cwd, as agentd made or was given it); null for none recorded. */
  workspace: AgentWorkspace | null;
  thinking: string | null;
  extra_args: string[];
  env: Record<string, string>;
  webhook: string | null;
  turn_envelope: boolean;
  pid: number | null;
  /** When its process started (clock ticks after boot): with the pid, which process it is. */
  pid_start: number | null;
  prompt: string | null;
  summary: string | null;
  error: string | null;
  exit_code: number | null;
  cost_micro_usd: number | null;
  /** What the agent may spend; null: no limit. */
  budget_micro_usd: number | null;
  budget_action: BudgetAction;
  /** The budget state last announced (a `budget` event), so each is announced once. */
  budget_state: BudgetState;
  input_tokens: number;
  output_tokens: number;
  turns: number;
  restarts: number;
  permissions: PermissionPolicy;
  /** The agent CLI's own conversation id, to resume it in a new process. */
  session_id: string | null;
  restart: RestartPolicy;
  /** A turn still open after this many seconds is failed; null: no limit. */
  turn_timeout_s: number | null;
  /** A turn with no output from the agent for this long is failed (null: no watchdog). */
  turn_idle_timeout_s: number | null;
  events_offset: number;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  updated_at: string;
}

export type NewAgent = Pick<
  AgentRecord,
  | "id"
  | "name"
  | "mode"
  | "protocol"
  | "status"
  | "command"
  | "provider"
  | "model"
  | "cwd"
  | "thinking"
  | "extra_args"
  | "env"
  | "webhook"
  | "turn_envelope"
  | "prompt"
  | "permissions"
  | "restart"
  | "turn_timeout_s"
  | "turn_idle_timeout_s"
> &
  /** No budget and `finish` unless given. */
  Partial<Pick<AgentRecord, "budget_micro_usd" | "budget_action">>;

type Row = Omit<AgentRecord, "command" | "extra_args" | "env" | "turn_envelope" | "workspace"> & {
  command: string | null;
  extra_args: string;
  env: string;
  turn_envelope: number;
  workspace: string | null;
};

/** An agent's row with its workspace record (kept in the workspaces table, changed there). */
const SELECT_AGENTS = `SELECT a.*, (${WORKSPACE_OF_AGENT}) AS workspace FROM agents a`;

export type AgentPatch = Partial<
  Omit<AgentRecord, "id" | "created_at" | "updated_at" | "workspace">
>;

const JSON_COLUMNS = new Set(["command", "extra_args", "env"]);

function fromRow(row: Row): AgentRecord {
  return {
    ...row,
    command: row.command === null ? null : (JSON.parse(row.command) as string[]),
    extra_args: JSON.parse(row.extra_args) as string[],
    env: JSON.parse(row.env) as Record<string, string>,
    turn_envelope: row.turn_envelope !== 0,
    workspace: row.workspace === null ? null : (JSON.parse(row.workspace) as AgentWorkspace),
  };
}

function toColumn(key: string, value: unknown): string | number | null {
  if (value === undefined || value === null) return null;
  if (JSON_COLUMNS.has(key)) return JSON.stringify(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  return value as string | number;
}

export function insertAgent(db: Database, agent: NewAgent): AgentRecord {
  const now = nowIso();
  return insertRow(db, { ...agent, created_at: now, updated_at: now });
}

/** An agent carried over from elsewhere (an import), with its own history and timestamps. */
export type RestoredAgent = NewAgent &
  Pick<
    AgentRecord,
    | "title"
    | "summary"
    | "error"
    | "cost_micro_usd"
    | "created_at"
    | "started_at"
    | "completed_at"
    | "updated_at"
  >;

export function restoreAgent(db: Database, agent: RestoredAgent): AgentRecord {
  return insertRow(db, agent);
}

function insertRow(db: Database, agent: NewAgent & Partial<AgentRecord>): AgentRecord {
  const values: Record<string, string | number | null> = {};
  for (const [key, value] of Object.entries(agent)) values[key] = toColumn(key, value);
  const columns = Object.keys(values);
  forgetAgent(db, agent.id);
  run(
    db,
    `INSERT INTO agents (${columns.join(", ")}) VALUES (${columns.map((c) => `$${c}`).join(", ")})`,
    values,
  );
  return getAgent(db, agent.id) as AgentRecord;
}

/** The agent's record (a kept one is frozen: never change it, make a new one). */
export function getAgent(db: Database, id: string): AgentRecord | null {
  const kept = keptAgent(db, id);
  if (kept) return kept;
  const row = db.query<Row, [string]>(`${SELECT_AGENTS} WHERE a.id = ?`).get(id);
  return row ? keepAgent(db, fromRow(row)) : null;
}

export interface AgentFilter {
  status?: AgentStatus | undefined;
  mode?: AgentMode | undefined;
}

export type { AgentPosition } from "./agent-records.ts";

export interface AgentPageRequest extends AgentFilter {
  /** Only agents after this one in list order (created_at, then id); from the first without. */
  after?: AgentPosition | undefined;
  limit: number;
}

export interface AgentPage {
  agents: AgentRecord[];
  /** Whether more agents follow the page's last. */
  more: boolean;
}

/**
 * One page of the list of agents (oldest first). Paged by position, not by offset: an agent
 * created or removed between two pages moves no other agent from one page to the next.
 */
export function listAgentPage(db: Database, request: AgentPageRequest): AgentPage {
  const agents: AgentRecord[] = [];
  for (const agent of currentListing(db).from(request.after)) {
    if (request.status !== undefined && agent.status !== request.status) continue;
    if (request.mode !== undefined && agent.mode !== request.mode) continue;
    if (agents.length === request.limit) return { agents, more: true };
    agents.push(agent);
  }
  return { agents, more: false };
}

/** Every agent, kept (see agent-records.ts) and brought up to date. */
function currentListing(db: Database): AgentListing {
  const kept = db.inTransaction ? undefined : keptListing(db);
  if (kept === undefined) return keepListing(db, listAgents(db));
  kept.refresh((id) => getAgent(db, id));
  return kept;
}

export function listAgents(db: Database, filter: AgentFilter = {}): AgentRecord[] {
  const rows = db
    .query<Row, { status: string | null; mode: string | null }>(
      `${SELECT_AGENTS}
       WHERE ($status IS NULL OR a.status = $status) AND ($mode IS NULL OR a.mode = $mode)
       ORDER BY a.created_at, a.id`,
    )
    .all({ status: filter.status ?? null, mode: filter.mode ?? null });
  return rows.map(fromRow);
}

/** Update the given fields (and updated_at); returns the new record, or null if the agent is gone. */
export function updateAgent(db: Database, id: string, patch: AgentPatch): AgentRecord | null {
  const values: Record<string, string | number | null> = { id, updated_at: nowIso() };
  let scalarsOnly = true;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    values[key] = toColumn(key, value);
    if (JSON_COLUMNS.has(key)) scalarsOnly = false;
  }
  const sets = Object.keys(values)
    .filter((key) => key !== "id")
    .map((key) => `${key} = $${key}`);
  const before = keptAgent(db, id);
  forgetAgent(db, id);
  const { changes } = run(db, `UPDATE agents SET ${sets.join(", ")} WHERE id = $id`, values);
  if (changes === 0) return null;
  // The row is the record it was with the patch: no need to read it back. (Arrays and objects
  // are read back, so that the kept record shares none with the caller.)
  if (before && scalarsOnly) {
    return keepAgent(db, {
      ...before,
      ...definedFields(patch),
      updated_at: values.updated_at as string,
    });
  }
  return getAgent(db, id);
}

function definedFields(patch: AgentPatch): AgentPatch {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) if (value !== undefined) fields[key] = value;
  return fields as AgentPatch;
}

/** An agent's spending after a usage, with its budget. */
export type Spending = Pick<AgentRecord, "cost_micro_usd" | "budget_micro_usd" | "budget_state">;

/**
 * Add usage in one statement, so concurrent updates never lose an increment; the new total
 * comes back with the budget, so checking it costs no query of its own.
 */
export function addAgentUsage(db: Database, id: string, usage: Usage): Spending | null {
  forgetAgent(db, id);
  return db
    .query<Spending, [Params]>(
      `UPDATE agents SET ${ADD_USAGE_SET}, updated_at = $now WHERE id = $id
       RETURNING cost_micro_usd, budget_micro_usd, budget_state`,
    )
    .get({ id, now: nowIso(), ...usageParams(usage) });
}

export function incrementAgentTurns(db: Database, id: string): void {
  const before = keptAgent(db, id);
  forgetAgent(db, id);
  const now = nowIso();
  const { changes } = run(
    db,
    "UPDATE agents SET turns = turns + 1, updated_at = $now WHERE id = $id",
    {
      id,
      now,
    },
  );
  if (before && changes > 0) keepAgent(db, { ...before, turns: before.turns + 1, updated_at: now });
}

export function countAgentsByStatus(db: Database): Partial<Record<AgentStatus, number>> {
  const rows = db
    .query<{ status: AgentStatus; n: number }, []>(
      "SELECT status, count(*) AS n FROM agents GROUP BY status",
    )
    .all();
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

/** How many agents there are of each status and mode. */
export function countAgentsByStatusAndMode(
  db: Database,
): { status: AgentStatus; mode: AgentMode; n: number }[] {
  return db
    .query<{ status: AgentStatus; mode: AgentMode; n: number }, []>(
      "SELECT status, mode, count(*) AS n FROM agents GROUP BY status, mode",
    )
    .all();
}

export function deleteAgent(db: Database, id: string): boolean {
  forgetAgent(db, id);
  return run(db, "DELETE FROM agents WHERE id = $id", { id }).changes > 0;
}

/** How far a persistent agent's events file has been applied; not a change anyone sees. */
export function setAgentEventsOffset(db: Database, id: string, offset: number): void {
  forgetAgent(db, id);
  run(db, "UPDATE agents SET events_offset = $offset WHERE id = $id", { id, offset });
}
