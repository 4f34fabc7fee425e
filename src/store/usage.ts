import type { Database } from "bun:sqlite";
import type { UsageGroup } from "../agents/cost.ts";
import { addedUp, insertRows, type Params, type Usage } from "./sql.ts";
import { nowIso } from "./time.ts";

/** One model call's usage, as the ledger keeps it. */
export interface UsageEntry extends Usage {
  agent_id: string;
  turn_id: string | null;
  protocol: string;
  model: string;
}

export function insertUsage(db: Database, entry: UsageEntry): void {
  insertUsages(db, [{ ...entry, created_at: nowIso() }]);
}

const USAGE_COLUMNS = [
  "agent_id",
  "turn_id",
  "protocol",
  "model",
  "input_tokens",
  "output_tokens",
  "cost_micro_usd",
  "created_at",
  "calls",
] as const;

type TimedEntry = UsageEntry & { created_at: string };

/**
 * Ledger rows for calls written together: one row per agent, turn, protocol, model and whether
 * the cost is known, counting its calls (SQLite's cost is per row), with the time of the last.
 */
export function insertUsages(db: Database, entries: TimedEntry[]): void {
  const rows = new Map<string, TimedEntry & { calls: number }>();
  for (const entry of entries) {
    const key = [entry.agent_id, entry.turn_id, entry.protocol, entry.model].join("\n");
    const known = `${key}\n${entry.cost_micro_usd === null}`;
    const row = rows.get(known);
    if (row === undefined) rows.set(known, { ...entry, calls: 1 });
    else rows.set(known, { ...entry, ...addedUp(row, entry), calls: row.calls + 1 });
  }
  insertRows(
    db,
    "usage",
    USAGE_COLUMNS,
    [...rows.values()].map((row) => USAGE_COLUMNS.map((column) => row[column])),
  );
}

/** What a set of model calls used. A cost is the sum of the known ones only. */
export interface UsageTotals {
  calls: number;
  /** Distinct turns the calls belong to (calls outside any turn are not counted here). */
  turns: number;
  input_tokens: number;
  output_tokens: number;
  /** Sum of the known costs; null when no call's cost is known. */
  cost_micro_usd: number | null;
  unknown_cost_calls: number;
  /** Turns with at least one call of unknown cost: their cost is more than counted. */
  unknown_cost_turns: number;
}

export interface UsageWindow {
  /** ISO times; a bound that is null is open. `since` is inclusive, `until` exclusive. */
  since: string | null;
  until: string | null;
}

const GROUP_KEY: Record<UsageGroup, string> = {
  agent: "agent_id",
  model: "model",
  protocol: "protocol",
  // created_at is an ISO time in UTC: its first ten characters are the UTC day.
  day: "substr(created_at, 1, 10)",
};

const TOTALS = `
  coalesce(sum(calls), 0) AS calls,
  count(DISTINCT agent_id || '/' || turn_id) AS turns,
  coalesce(sum(input_tokens), 0) AS input_tokens,
  coalesce(sum(output_tokens), 0) AS output_tokens,
  sum(cost_micro_usd) AS cost_micro_usd,
  coalesce(sum(CASE WHEN cost_micro_usd IS NULL THEN calls END), 0) AS unknown_cost_calls,
  count(DISTINCT CASE WHEN cost_micro_usd IS NULL THEN agent_id || '/' || turn_id END)
    AS unknown_cost_turns`;

const IN_WINDOW = `($since IS NULL OR created_at >= $since) AND ($until IS NULL OR created_at < $until)`;

/** Usage in the window, one row per group: days in order, the rest costliest first. */
export function usageByGroup(
  db: Database,
  group: UsageGroup,
  window: UsageWindow,
): (UsageTotals & { key: string })[] {
  const order = group === "day" ? "key" : "cost_micro_usd IS NULL, cost_micro_usd DESC, key";
  return db
    .query<UsageTotals & { key: string }, [Params]>(
      `SELECT ${GROUP_KEY[group]} AS key, ${TOTALS} FROM usage WHERE ${IN_WINDOW}
       GROUP BY key ORDER BY ${order}`,
    )
    .all({ ...window });
}

/** Usage in the window, all of it together. */
export function usageTotal(db: Database, window: UsageWindow): UsageTotals {
  return db
    .query<UsageTotals, [Params]>(`SELECT ${TOTALS} FROM usage WHERE ${IN_WINDOW}`)
    .get({ ...window }) as UsageTotals;
}
