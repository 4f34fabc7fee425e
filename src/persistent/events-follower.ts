import { closeSync, openSync, readSync, statSync } from "node:fs";
import { log } from "../log.ts";
import { AgentLog } from "../supervisor/agent-log.ts";
import { LineSplitter } from "../supervisor/lines.ts";
import { MAX_LINE_BYTES } from "../supervisor/run.ts";

const READ_BYTES = 1024 * 1024;
const POLL_BYTES = 16 * READ_BYTES;

/** What a follower hands on: the complete lines read, and the file offset just past them. */
export type LinesSink = (lines: FollowedLine[], offset: number) => void;

export type FollowedLine =
  | { kind: "line"; text: string }
  | { kind: "oversize"; totalBytes: number };

/**
 * Follows an agent's events file (systemd appends the agent's stdout to it) from a byte offset.
 * Only whole lines are handed on, each batch with the offset just past its last line, so a
 * reader that stores that offset with the batch's effects resumes exactly where it stopped.
 * Polled: inotify does not reliably see writes through systemd's append: descriptor.
 */
export class EventsFollower {
  private offset: number;
  /** Bytes read past `offset`: the start of a line not yet complete. */
  private pendingBytes = 0;
  private splitter: LineSplitter;
  private batch: FollowedLine[] = [];
  private readonly agentLog: AgentLog;
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });

  constructor(
    private readonly path: string,
    startOffset: number,
    logPath: string,
    private readonly sink: LinesSink,
  ) {
    this.offset = startOffset;
    this.splitter = this.newSplitter();
    this.agentLog = new AgentLog(logPath);
  }

  /**
   * Read what was appended since the last poll (up to a bound, so a long backlog is taken in
   * steps without stalling the daemon) and hand on its complete lines.
   */
  poll(): void {
    const size = fileSize(this.path);
    if (size === null) return;
    if (size < this.offset + this.pendingBytes) this.restartFromTop(size);
    let position = this.offset + this.pendingBytes;
    const end = Math.min(size, position + POLL_BYTES);
    if (end <= position) return;
    const fd = openSync(this.path, "r");
    try {
      const buffer = Buffer.alloc(Math.min(READ_BYTES, end - position));
      while (position < end) {
        const length = readSync(fd, buffer, 0, Math.min(buffer.length, end - position), position);
        if (length === 0) break;
        position += length;
        this.pendingBytes += length;
        this.splitter.push(buffer.subarray(0, length));
        this.flush();
      }
    } finally {
      closeSync(fd);
    }
  }

  close(): void {
    this.agentLog.close();
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const lines = this.batch;
    this.batch = [];
    this.sink(lines, this.offset);
  }

  /** The file is shorter than what was read: it was truncated or replaced. */
  private restartFromTop(size: number): void {
    log.warn(
      `${this.path} shrank to ${size} bytes below offset ${this.offset}; reading it again from the start`,
    );
    this.offset = 0;
    this.pendingBytes = 0;
    this.splitter = this.newSplitter();
  }

  private newSplitter(): LineSplitter {
    return new LineSplitter(MAX_LINE_BYTES, {
      line: (bytes) => {
        this.lineDone(bytes.length);
        this.agentLog.write("", bytes);
        this.batch.push({ kind: "line", text: this.decoder.decode(bytes) });
      },
      oversize: (head, totalBytes) => {
        this.lineDone(totalBytes);
        this.agentLog.write("", head);
        this.agentLog.write(
          "",
          `[agentd: line of ${totalBytes} bytes cut to ${head.length}; not parsed]`,
        );
        this.batch.push({ kind: "oversize", totalBytes });
      },
    });
  }

  private lineDone(bytes: number): void {
    this.offset += bytes + 1;
    this.pendingBytes -= bytes + 1;
  }
}

function fileSize(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}
