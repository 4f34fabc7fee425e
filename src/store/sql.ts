import type { Changes, Database } from "bun:sqlite";

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

export function usageParams(usage: Usage): Params {
  return { input: usage.input_tokens, output: usage.output_tokens, cost: usage.cost_micro_usd };
}
