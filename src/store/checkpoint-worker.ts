/**
 * The database's WAL checkpoints, on a thread of their own (see checkpointer.ts): its own
 * connection copies committed pages back into the database file every so often, PASSIVE, so
 * it never waits for or blocks the daemon's writes.
 */
import { Database } from "bun:sqlite";

declare const self: Worker;

interface Start {
  path: string;
  intervalMs: number;
}

let timer: Timer | null = null;
let db: Database | null = null;

self.onmessage = (message: MessageEvent<Start | "stop">) => {
  if (message.data === "stop") {
    if (timer) clearInterval(timer);
    db?.close();
    db = null;
    postMessage("stopped");
    return;
  }
  const { path, intervalMs } = message.data;
  db = new Database(path);
  db.run("PRAGMA busy_timeout = 10000");
  timer = setInterval(checkpoint, intervalMs);
  postMessage("ready");
};

function checkpoint(): void {
  try {
    db?.run("PRAGMA wal_checkpoint(PASSIVE)");
  } catch (error) {
    postMessage(`checkpoint failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
