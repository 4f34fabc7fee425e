import type { Changes, Database, SQLQueryBindings } from "bun:sqlite";

export type Params = Record<string, string | number | bigint | boolean | null>;

/** Run one statement with named parameters (`$name` in SQL, `name` in params). */
export function run(db: Database, sql: string, params: Params = {}): Changes {
  return db.query<unknown, [Params]>(sql).run(params);
}

/**
 * SET clauses adding a usage to a row's tokens and cost ($input, $output, $cost). An unknown
 * cost (NULL) leaves the total as it was: unknown is not zero.
 */
export const ADD_USAGE_SET = `
  input_tokens = input_tokens + $input,
  output_tokens = output_tokens + $output,
  cost_micro_usd = CASE WHEN $cost IS NULL THEN cost_micro_usd
                        ELSE coalesce(cost_micro_usd, 0) + $cost END`;

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cost_micro_usd: number | null;
}

/** Two usages together; an unknown cost added to a known one counts as nothing. */
export function addedUp(a: Usage, b: Usage): Usage {
  return {
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    cost_micro_usd:
      a.cost_micro_usd === null && b.cost_micro_usd === null
        ? null
        : (a.cost_micro_usd ?? 0) + (b.cost_micro_usd ?? 0),
  };
}

export function usageParams(usage: Usage): Params {
  return { input: usage.input_tokens, output: usage.output_tokens, cost: usage.cost_micro_usd };
}

/** Rows in one INSERT when many are written at once. */
const ROWS_PER_INSERT = 64;
const insertSql = new Map<string, string>();

/** Insert rows, up to 64 in one statement (a statement's own cost is most of a small row's). */
export function insertRows(
  db: Database,
  table: string,
  columns: readonly string[],
  rows: readonly SQLQueryBindings[][],
): void {
  for (let at = 0; at < rows.length; at += ROWS_PER_INSERT) {
    const some = rows.slice(at, at + ROWS_PER_INSERT);
    db.query<unknown, SQLQueryBindings[]>(insertStatement(table, columns, some.length)).run(
      ...some.flat(),
    );
  }
}

function insertStatement(table: string, columns: readonly string[], rows: number): string {
  const key = `${table}(${columns.join(",")})*${rows}`;
  let sql = insertSql.get(key);
  if (sql === undefined) {
    const row = `(${columns.map(() => "?").join(", ")})`;
    sql = `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${Array(rows).fill(row).join(", ")}`;
    insertSql.set(key, sql);
  }
  return sql;
}
