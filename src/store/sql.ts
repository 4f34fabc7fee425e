import type { Changes, Database } from "bun:sqlite";

export type Params = Record<string, string | number | bigint | boolean | null>;

/** Run one statement with named parameters (`$name` in SQL, `name` in params). */
export function run(db: Database, sql: string, params: Params = {}): Changes {
  return db.query<unknown, [Params]>(sql).run(params);
}

/** Run `fn` in one write transaction: all of its statements land, or none do. */
export function inTransaction<T>(db: Database, fn: () => T): T {
  return db.transaction(fn).immediate();
}
