/**
 * The database's WAL checkpoints, on a thread of their own (see checkpointer.ts): its own
 * connection copies committed pages back into the database file every so often, PASSIVE, so
 * it never waits for or blocks the daemon's writes.
 *
 * PASSIVE alone cannot keep the WAL short while agents write without pause: SQLite starts the
 * WAL over only when a write finds every frame copied back, and under a steady stream new
 * frames always arrive while the copy runs, so the file grows for as long as the stream lasts
 * (gigabytes in minutes, until the disk is full). So once the WAL holds more than its limit:
 * - while writes go on, RESTART copies what arrived during the PASSIVE pass, holding the
 *   daemon's writes back for that remainder only, and the next write starts the file over
 *   from its beginning (its size stays, to be written over: shrinking a large file takes long
 *   enough to stall the API);
 * - once a whole interval passed without a write, TRUNCATE gives the space back.
 */
import { Database } from "bun:sqlite";
import { statSync } from "node:fs";

declare const self: Worker;

interface Start {
  path: string;
  intervalMs: number;
  walLimitBytes: number;
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
  const { path, intervalMs, walLimitBytes } = message.data;
  const connection = new Database(path);
  connection.run("PRAGMA busy_timeout = 10000");
  db = connection;
  const wal = new Wal(connection, `${path}-wal`, walLimitBytes);
  timer = setInterval(() => wal.checkpoint(), intervalMs);
  postMessage("ready");
};

class Wal {
  private readonly limitFrames: number;
  private framesBefore = 0;

  constructor(
    private readonly connection: Database,
    private readonly file: string,
    private readonly limitBytes: number,
  ) {
    const pageSize = connection.query<{ page_size: number }, []>("PRAGMA page_size").get();
    this.limitFrames = Math.floor(limitBytes / (pageSize?.page_size ?? 4096));
  }

  /** One round: PASSIVE, then RESTART or TRUNCATE when the WAL is past its limit. */
  checkpoint(): void {
    try {
      let frames = this.run("PASSIVE");
      const quiet = frames === this.framesBefore;
      if (quiet && this.fileBytes() > this.limitBytes) frames = this.run("TRUNCATE");
      else if (!quiet && frames > this.limitFrames) frames = this.run("RESTART");
      this.framesBefore = frames;
    } catch (error) {
      postMessage(`checkpoint failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Frames in the WAL after a checkpoint in `mode`. */
  private run(mode: "PASSIVE" | "RESTART" | "TRUNCATE"): number {
    const result = this.connection.query<{ log: number }, []>(`PRAGMA wal_checkpoint(${mode})`);
    return result.get()?.log ?? 0;
  }

  private fileBytes(): number {
    return statSync(this.file, { throwIfNoEntry: false })?.size ?? 0;
  }
}
