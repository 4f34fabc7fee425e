import type { Database } from "bun:sqlite";
import { isOpenTurnStatus, TURN_STATUSES, type TurnStatus } from "../agents/status.ts";
import { ADD_USAGE_SET, run, type Usage, usageParams } from "./sql.ts";
import { nowIso } from "./time.ts";

/** Still waiting for its answer. */
export function isOpenTurn(turn: TurnRecord): boolean {
  return isOpenTurnStatus(turn.status);
}

export interface TurnRecord {
  agent_id: string;
  id: string;
  position: number;
  input: string;
  status: TurnStatus;
  response: string | null;
  error: string | null;
  metadata: Record<string, unknown> | null;
  input_tokens: number;
  output_tokens: number;
  cost_micro_usd: number | null;
  /** The model of the turn's last model call, when one reported usage. */
  model: string | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
}

type Row = Omit<TurnRecord, "metadata"> & { metadata: string | null };

function fromRow(row: Row): TurnRecord {
  return {
    ...row,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>),
  };
}

export interface NewTurn {
  agent_id: string;
  id: string;
  /** One past the agent's last (lastTurnPosition). */
  position: number;
  input: string;
  metadata: Record<string, unknown> | null;
}

export function insertTurn(db: Database, turn: NewTurn): void {
  run(
    db,
    `INSERT INTO turns (agent_id, id, position, input, status, metadata, created_at)
     VALUES ($agent_id, $id, $position, $input, 'queued', $metadata, $now)`,
    {
      agent_id: turn.agent_id,
      id: turn.id,
      position: turn.position,
      input: turn.input,
      metadata: turn.metadata === null ? null : JSON.stringify(turn.metadata),
      now: nowIso(),
    },
  );
}

/** The position of the agent's newest turn; 0 when it has none. */
export function lastTurnPosition(db: Database, agentId: string): number {
  const row = db
    .query<{ position: number }, [string]>(
      "SELECT position FROM turns WHERE agent_id = ? ORDER BY position DESC LIMIT 1",
    )
    .get(agentId);
  return row?.position ?? 0;
}

export function getTurn(db: Database, agentId: string, turnId: string): TurnRecord | null {
  const row = db
    .query<Row, [string, string]>("SELECT * FROM turns WHERE agent_id = ? AND id = ?")
    .get(agentId, turnId);
  return row ? fromRow(row) : null;
}

export function turnExists(db: Database, agentId: string, turnId: string): boolean {
  return (
    db.query("SELECT 1 FROM turns WHERE agent_id = ? AND id = ?").get(agentId, turnId) !== null
  );
}

export interface TurnPage {
  limit: number;
  /** Only turns that came before this turn id (exclusive). */
  before?: string | undefined;
}

/** Newest first. */
export function listTurns(db: Database, agentId: string, page: TurnPage): TurnRecord[] {
  const rows = db
    .query<Row, { agent: string; before: string | null; limit: number }>(
      `SELECT * FROM turns
       WHERE agent_id = $agent
         AND ($before IS NULL OR position <
              (SELECT position FROM turns WHERE agent_id = $agent AND id = $before))
       ORDER BY position DESC LIMIT $limit`,
    )
    .all({ agent: agentId, before: page.before ?? null, limit: page.limit });
  return rows.map(fromRow);
}

/** A turn still waiting for its answer: its id and whether the agent has begun it. */
export interface OpenTurn {
  id: string;
  status: "queued" | "running";
}

/** The agent's turns still waiting for their answers, oldest first. */
export function openTurns(db: Database, agentId: string): OpenTurn[] {
  return db
    .query<OpenTurn, [string]>(
      `SELECT id, status FROM turns WHERE agent_id = ? AND status IN ('queued', 'running')
       ORDER BY position`,
    )
    .all(agentId);
}

/** Every turn still open of the agents that limit how long a turn may take. */
export function openTurnsWithLimits(db: Database): TurnRecord[] {
  return db
    .query<Row, []>(
      `SELECT turns.* FROM turns JOIN agents ON agents.id = turns.agent_id
       WHERE turns.status IN ('queued', 'running') AND agents.turn_timeout_s IS NOT NULL`,
    )
    .all()
    .map(fromRow);
}

export type TurnPatch = Partial<
  Pick<
    TurnRecord,
    | "status"
    | "response"
    | "error"
    | "started_at"
    | "completed_at"
    | "input_tokens"
    | "output_tokens"
  >
>;

export function updateTurn(db: Database, agentId: string, turnId: string, patch: TurnPatch): void {
  const entries = Object.entries(patch).filter(([, value]) => value !== undefined);
  if (entries.length === 0) return;
  const values: Record<string, string | number | null> = { agent_id: agentId, turn_id: turnId };
  for (const [key, value] of entries) values[key] = value as string | number | null;
  run(
    db,
    `UPDATE turns SET ${entries.map(([key]) => `${key} = $${key}`).join(", ")}
     WHERE agent_id = $agent_id AND id = $turn_id`,
    values,
  );
}

export function addTurnUsage(
  db: Database,
  agentId: string,
  turnId: string,
  usage: Usage & { model: string },
): void {
  run(
    db,
    `UPDATE turns SET ${ADD_USAGE_SET}, model = $model WHERE agent_id = $agent AND id = $turn`,
    { agent: agentId, turn: turnId, model: usage.model, ...usageParams(usage) },
  );
}

export type TurnCounts = Record<TurnStatus, number>;

export function noTurns(): TurnCounts {
  return Object.fromEntries(TURN_STATUSES.map((status) => [status, 0])) as TurnCounts;
}

/** The agent's turns by status. */
export function countTurnsByStatus(db: Database, agentId: string): TurnCounts {
  const counts = noTurns();
  const rows = db
    .query<{ status: TurnStatus; n: number }, [string]>(
      "SELECT status, count(*) AS n FROM turns WHERE agent_id = ? GROUP BY status",
    )
    .all(agentId);
  for (const row of rows) counts[row.status] = row.n;
  return counts;
}

/** Close every open turn of an agent, e.g. when its process is gone. */
export function closeOpenTurns(
  db: Database,
  agentId: string,
  status: TurnStatus,
  error: string,
): void {
  run(
    db,
    `UPDATE turns SET status = $status, error = $error, completed_at = $now
     WHERE agent_id = $agent AND status IN ('queued', 'running')`,
    { agent: agentId, status, error, now: nowIso() },
  );
}
