import { Database } from "bun:sqlite";
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { MIGRATIONS } from "./migrations.ts";
import { isOriginalDatabase } from "./original.ts";

export const SCHEMA_VERSION = MIGRATIONS.length;

export class SchemaTooNewError extends Error {}

/** The file is a database, but not agentd's: it is left exactly as it is. */
export class ForeignDatabaseError extends Error {}

/**
 * Open (creating if needed) the agentd database and bring its schema up to date.
 * WAL lets readers run beside one writer; busy_timeout makes a second writer wait
 * instead of failing with SQLITE_BUSY.
 */
export function openDatabase(path: string): Database {
  const fresh = !existsSync(path);
  if (fresh) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Owner-only from its first byte (SQLite gives its journal files the same mode).
    closeSync(openSync(path, "a", 0o600));
  }
  const db = new Database(path, { create: true, strict: true });
  try {
    db.run("PRAGMA busy_timeout = 10000");
    // Before anything is written, WAL mode included: a database that is not agentd's stays as it was.
    if (!fresh) refuseForeign(db, path);
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

/** An unversioned database with tables in it was written by something other than agentd. */
function refuseForeign(db: Database, path: string): void {
  if (schemaVersion(db) !== 0) return;
  if (isOriginalDatabase(db)) {
    throw new ForeignDatabaseError(
      `${path} was written by the original agentd daemon, and agentd leaves it as it is. ` +
        `Copy its agents, messages and workspaces into a database of agentd's own with\n` +
        `  agentd import-legacy --from ${path} --db NEW.db\n` +
        "and start the daemon with --db NEW.db (see docs/MIGRATING.md)",
    );
  }
  const tables = db
    .query<{ name: string }, []>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .all();
  if (tables.length > 0) {
    throw new ForeignDatabaseError(
      `${path} is not an agentd database (it has the tables ${tables.map((t) => t.name).join(", ")} and no agentd schema version): point --db at another file`,
    );
  }
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
