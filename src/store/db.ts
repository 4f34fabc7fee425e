import { Database } from "bun:sqlite";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { MIGRATIONS } from "./migrations.ts";

export const SCHEMA_VERSION = MIGRATIONS.length;

export class SchemaTooNewError extends Error {}

/**
 * Open (creating if needed) the agentd database and bring its schema up to date.
 * WAL lets readers run beside one writer; busy_timeout makes a second writer wait
 * instead of failing with SQLITE_BUSY.
 */
export function openDatabase(path: string): Database {
  const fresh = !existsSync(path);
  if (fresh) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path, { create: true, strict: true });
  if (fresh) chmodSync(path, 0o600);
  try {
    db.run("PRAGMA busy_timeout = 10000");
    db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA synchronous = NORMAL");
    db.run("PRAGMA foreign_keys = ON");
    migrate(db, path);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

export function schemaVersion(db: Database): number {
  const row = db.query<{ user_version: number }, []>("PRAGMA user_version").get();
  return row?.user_version ?? 0;
}

function migrate(db: Database, path: string): void {
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) {
    throw new SchemaTooNewError(
      `database ${path} has schema version ${current}, but this agentd only knows up to ${SCHEMA_VERSION}: it was written by a newer agentd. Run that version, or point --db at another file.`,
    );
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    const apply = db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      if (schemaVersion(db) !== version) return;
      db.run(MIGRATIONS[version] as string);
      db.run(`PRAGMA user_version = ${version + 1}`);
    });
    apply.immediate();
  }
}
