import { type Database, SQLiteError } from "bun:sqlite";
import { statfsSync } from "node:fs";
import { dirname } from "node:path";
import { AgentdError } from "../errors.ts";
import { log } from "../log.ts";
import type { StorageHealth } from "../storage-health.ts";
import { run } from "./sql.ts";

/** How often a database that could not be written is looked at again. */
const PROBE_MS = 2000;
/** Free space its filesystem must have before the database counts as writable again. */
const MIN_FREE_BYTES = 1024 * 1024;

/** The database cannot be written now (a full or failing disk): try again later. */
export class StorageError extends AgentdError {
  constructor(message: string) {
    super(503, "storage_unavailable", message);
  }
}

/** SQLite's ways of saying the file cannot be written: full, an I/O error, read-only. */
export function isStorageError(error: unknown): error is SQLiteError {
  return (
    error instanceof SQLiteError && /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN)/.test(error.code ?? "")
  );
}

/**
 * Whether the database can be written. A write that fails for want of space (or of a working
 * disk) marks it failing: /health says so, naming the file, and every request whose write
 * fails answers 503 with the same message, instead of a 500. It is writable again once a write
 * works — one of the daemon's own, or a look every few seconds at whether it could grow (room
 * on its filesystem, and a page more than its free list holds within its page limit) — so it
 * recovers by itself when space returns.
 */
export class DatabaseHealth {
  private probe: Timer | null = null;

  constructor(
    private readonly db: Database,
    private readonly health: StorageHealth,
  ) {}

  get failing(): boolean {
    return this.health.isFailing(this.db.filename);
  }

  /** A write failed with `error`: what to throw instead (a StorageError when storage failed). */
  failed(error: unknown): unknown {
    if (!isStorageError(error)) return error;
    const message = `cannot write the database ${this.db.filename}: ${error.message} (${error.code}); agentd carries on by itself once it can write again`;
    if (this.health.fail(this.db.filename, () => message)) {
      log.error(message);
      this.probe = setInterval(() => this.lookAgain(), PROBE_MS);
      this.probe.unref();
    }
    return new StorageError(message);
  }

  /** A write worked. */
  written(): void {
    if (!this.health.recover(this.db.filename)) return;
    log.info(`the database ${this.db.filename} can be written again`);
    this.stop();
  }

  stop(): void {
    if (this.probe) clearInterval(this.probe);
    this.probe = null;
  }

  private lookAgain(): void {
    if (hasRoomToGrow(this.db)) this.written();
  }
}

/**
 * Whether the database could take a write that needs a new page, found out without keeping
 * anything: its filesystem has room, and a page more than its free list holds fits within its
 * page limit (an insert rolled back).
 */
function hasRoomToGrow(db: Database): boolean {
  try {
    const { bavail, bsize } = statfsSync(dirname(db.filename));
    if (bavail * bsize < MIN_FREE_BYTES) return false;
    const pageSize =
      db.query<{ page_size: number }, []>("PRAGMA page_size").get()?.page_size ?? 4096;
    const free =
      db.query<{ freelist_count: number }, []>("PRAGMA freelist_count").get()?.freelist_count ?? 0;
    db.run("BEGIN IMMEDIATE");
    try {
      run(db, "INSERT INTO storage_probe (data) VALUES (zeroblob($bytes))", {
        bytes: (free + 1) * pageSize,
      });
    } finally {
      db.run("ROLLBACK");
    }
    return true;
  } catch {
    return false;
  }
}
