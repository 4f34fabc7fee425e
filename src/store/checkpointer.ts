import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { log } from "../log.ts";

/** Short enough that a flooding agent's WAL stays within tens of megabytes between rounds. */
const INTERVAL_MS = 250;
/** Past this the worker starts the WAL over, or shrinks it (checkpoint-worker.ts). */
export const WAL_LIMIT_BYTES = 16 * 1024 * 1024;
const START_TIMEOUT_MS = 5000;

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Moves the database's WAL checkpoints off the daemon's thread. A checkpoint writes the WAL
 * back into the database file and syncs it — tens of milliseconds on an ordinary disk — and
 * SQLite runs it inside whichever commit finds the WAL long enough: a flooding agent's batch
 * would stall the API every few seconds. A worker with its own connection checkpoints four
 * times a second instead, and the daemon's connection never does. Where the worker cannot start,
 * checkpoints stay where SQLite puts them.
 */
export function startCheckpointer(db: Database): Checkpointer {
  const worker = new Worker(workerUrl());
  // Not awaited by the daemon's start: until the worker is ready, SQLite checkpoints as usual.
  const started = workerReady(worker, db.filename).then((ready) => {
    if (!ready) {
      worker.terminate();
      log.warn("the checkpoint worker did not start; SQLite checkpoints during commits");
      return false;
    }
    worker.onmessage = (message) => log.warn(`database: ${String(message.data)}`);
    db.run("PRAGMA wal_autocheckpoint = 0");
    return true;
  });
  return {
    stop: async () => {
      if (!(await started)) return;
      db.run("PRAGMA wal_autocheckpoint = 1000");
      const stopped = new Promise<void>((resolve) => {
        worker.onmessage = () => resolve();
        setTimeout(resolve, START_TIMEOUT_MS);
      });
      worker.postMessage("stop");
      await stopped;
      worker.terminate();
    },
  };
}

function workerReady(worker: Worker, path: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timeout = setTimeout(() => resolve(false), START_TIMEOUT_MS);
    worker.onmessage = (message) => {
      clearTimeout(timeout);
      resolve(message.data === "ready");
    };
    worker.onerror = () => resolve(false);
    worker.postMessage({ path, intervalMs: INTERVAL_MS, walLimitBytes: WAL_LIMIT_BYTES });
  });
}

/**
 * The worker's code: beside this file in a checkout; in the compiled binary, where build.ts
 * puts it (its path under src/, from the root everything is bundled into).
 */
function workerUrl(): URL {
  const beside = new URL("./checkpoint-worker.ts", import.meta.url);
  return existsSync(fileURLToPath(beside))
    ? beside
    : new URL("./store/checkpoint-worker.ts", import.meta.url);
}
