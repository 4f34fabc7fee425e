import { closeSync, openSync, readSync, statSync, truncateSync } from "node:fs";
import { AgentOutput, type LineReader } from "../../ingest/output.ts";
import { log } from "../../log.ts";
import type { AgentLog } from "../../logs/agent-log.ts";
import type { AgentEvent } from "../../protocols/session.ts";
import { punchHole } from "../libc.ts";

const READ_BYTES = 1024 * 1024;
const POLL_BYTES = 16 * READ_BYTES;
/** Applied bytes are given back to the filesystem in steps of at least this much. */
const RECLAIM_BYTES = 1024 * 1024;
/** Holes are punched in whole blocks. */
const BLOCK_BYTES = 4096;

/**
 * One batch of a persistent agent's events, and the file offset just past the lines they came
 * from; returns whether the batch was stored (and the offset with it).
 */
export type EventsSink = (events: AgentEvent[], offset: number) => boolean;

/**
 * Follows a persistent agent's events file (systemd appends the agent's stdout to it) from a
 * byte offset, through the same output path as a run's stdout. Each chunk read is one batch
 * with the offset just past its last whole line, so a reader that stores that offset with the
 * batch's effects resumes exactly where it stopped; a batch that could not be stored is read
 * again at the next poll. Polled: inotify does not reliably see writes through systemd's
 * append: descriptor.
 *
 * The file is never rotated under systemd's descriptor (see docs/ARCHITECTURE.md): the disk
 * blocks of what has been stored are freed in place (a hole punched in the file), so offsets
 * stay valid and the agent's appends are never raced; the file starts over, empty, only while
 * no process of the agent has it open (`startOver`).
 */
export class EventsFileFollower {
  /** Where the current output began reading (0 after the file was replaced). */
  private base: number;
  /** Bytes read since `base`. */
  private read = 0;
  /** The offset of the last batch stored. */
  private stored: number;
  /** Everything before this offset has been given back to the filesystem. */
  private reclaimed: number;
  private reclaiming = true;
  /** The last batch could not be stored. */
  private refused = false;
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
    this.stored = startOffset;
    this.reclaimed = 0;
    this.output = this.newOutput();
  }

  /**
   * Read what was appended since the last poll (up to a bound, so a long backlog is taken in
   * steps without stalling the daemon) and hand on its batches; stops at a batch that could
   * not be stored, to read it again next time.
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
        if (!this.take(buffer.subarray(0, length))) break;
      }
    } finally {
      closeSync(fd);
    }
    this.reclaim();
  }

  /**
   * The agent's processes are gone (its unit is inactive) and nothing will be appended until it
   * starts: a file read to its end is emptied, to begin again at offset 0. True when it was.
   */
  startOver(): boolean {
    this.poll();
    const size = fileSize(this.path);
    if (size === null || size !== this.stored) return false;
    truncateSync(this.path, 0);
    this.base = 0;
    this.read = 0;
    this.stored = 0;
    this.reclaimed = 0;
    this.output = this.newOutput();
    return true;
  }

  /** One chunk into the output; false when its batch could not be stored. */
  private take(chunk: Uint8Array): boolean {
    this.refused = false;
    this.output.stdout(chunk);
    return !this.refused;
  }

  /** The file is shorter than what was read: it was truncated or replaced. */
  private restartFromTop(size: number): void {
    log.warn(
      `${this.path} shrank to ${size} bytes below offset ${this.base + this.read}; reading it again from the start`,
    );
    this.base = 0;
    this.read = 0;
    this.stored = 0;
    this.reclaimed = 0;
    this.output = this.newOutput();
  }

  /** A batch could not be stored: read again from the last one that was, next time. */
  private rewind(): void {
    this.base = this.stored;
    this.read = 0;
    this.output = this.newOutput();
  }

  /** Free the disk blocks of what is stored, in whole blocks, a megabyte or more at a time. */
  private reclaim(): void {
    const upTo = Math.floor(this.stored / BLOCK_BYTES) * BLOCK_BYTES;
    if (!this.reclaiming || upTo - this.reclaimed < RECLAIM_BYTES) return;
    let fd: number;
    try {
      fd = openSync(this.path, "r+");
    } catch {
      return;
    }
    try {
      if (punchHole(fd, this.reclaimed, upTo - this.reclaimed)) {
        this.reclaimed = upTo;
      } else {
        this.reclaiming = false;
        log.warn(
          `${this.path}: this filesystem cannot free parts of a file (fallocate PUNCH_HOLE); the events file grows until the agent is next started by hand`,
        );
      }
    } finally {
      closeSync(fd);
    }
  }

  private newOutput(): AgentOutput {
    const base = this.base;
    return new AgentOutput(this.agentId, this.agentLog, this.reader, (batch) => {
      const offset = base + batch.consumed;
      if (this.sink(batch.events, offset)) {
        this.stored = offset;
      } else {
        this.refused = true;
        this.rewind();
      }
    });
  }
}

function fileSize(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}
