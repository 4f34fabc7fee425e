import type { Database } from "bun:sqlite";
import { openDatabase } from "../../src/store/db.ts";
import { daemonPaths } from "../helpers/daemon.ts";

/** The test daemon's own SQLite file (WAL: safe to read beside the running daemon). */
export function daemonDatabase(daemon: { home: string }): Database {
  return openDatabase(daemonPaths(daemon.home).db);
}
