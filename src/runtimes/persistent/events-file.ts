import { closeSync, openSync, readSync, statSync } from "node:fs";
import { AgentOutput, type LineReader } from "../../ingest/output.ts";
import { log } from "../../log.ts";
import type { AgentLog } from "../../logs/agent-log.ts";
import type { AgentEvent } from "../../protocols/session.ts";

const READ_BYTES = 1024 * 1024;
const POLL_BYTES = 16 * READ_BYTES;

/** One batch of a persistent agent's events, and the file offset just past the lines they came from. */
export type EventsSink = (events: AgentEvent[], offset: number) => void;

/**
 * Follows a persistent agent's events file (systemd appends the agent's stdout to it) from a
 * byte offset, through the same output path as a run's stdout. Each chunk read is one batch
 * with the offset just past its last whole line, so a reader that stores that offset with the
 * batch's effects resumes exactly where it stopped. Polled: inotify does not reliably see
 * writes through systemd's append: descriptor.
 */
export class EventsFileFollower {
  /** Where the current output began reading (0 after the file was replaced). */
  private base: number;
  /** Bytes read since `base`. */
  private read = 0;
  private output: AgentOutput;

  constructor(
    private readonly path: string,
    startOffset: number,
    private readonly agentId: string,
    private readonly agentLog: AgentLog,
    private readonly reader: LineReader,
    private readonly sink: EventsSink,
  ) {
    this.base = startOffset;
    this.output = this.newOutput();
  }

  /**
   * Read what was appended since the last poll (up to a bound, so a long backlog is taken in
   * steps without stalling the daemon) and hand on its batches.
   */
  poll(): void {
    const size = fileSize(this.path);
    if (size === null) return;
    let position = this.base + this.read;
    if (size < position) {
      this.restartFromTop(size);
      position = 0;
    }
    const end = Math.min(size, position + POLL_BYTES);
    if (end <= position) return;
    const fd = openSync(this.path, "r");
    try {
      const buffer = Buffer.alloc(Math.min(READ_BYTES, end - position));
      while (position < end) {
        const length = readSync(fd, buffer, 0, Math.min(buffer.length, end - position), position);
        if (length === 0) break;
        position += length;
        this.read += length;
        this.output.stdout(buffer.subarray(0, length));
      }
    } finally {
      closeSync(fd);
    }
  }

  /** The file is shorter than what was read: it was truncated or replaced. */
  private restartFromTop(size: number): void {
    log.warn(
      `${this.path} shrank to ${size} bytes below offset ${this.base + this.read}; reading it again from the start`,
    );
    this.base = 0;
    this.read = 0;
    this.output = this.newOutput();
  }

  private newOutput(): AgentOutput {
    const base = this.base;
    return new AgentOutput(this.agentId, this.agentLog, this.reader, (batch) =>
      this.sink(batch.events, base + batch.consumed),
    );
  }
}

function fileSize(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}
