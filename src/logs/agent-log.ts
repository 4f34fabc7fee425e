import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writevSync,
} from "node:fs";
import { dirname } from "node:path";
import { errorMessage } from "../errors.ts";
import { rotatedPath } from "./log-files.ts";

const NEWLINE = Buffer.from("\n");

/** How big a log may grow before it is rotated, and how many rotated files are kept. */
export interface LogLimits {
  maxBytes: number;
  keep: number;
}

/**
 * Told when writing a log starts failing (lines are being lost), when it works again, and when
 * it is closed while still failing.
 */
export interface LogTrouble {
  failed(log: AgentLog, error: string): void;
  recovered(log: AgentLog, lost: number): void;
  closedFailing(log: AgentLog, lost: number): void;
}

/**
 * Appends whole lines to an agent's log file, rotating it before it would pass its size
 * limit (agent.log → agent.log.1 → … → agent.log.N, the oldest dropped). A line that cannot
 * be written (a full disk, a directory that cannot be written) is lost, never torn: it is
 * counted, the trouble is reported once, and the log says how many were lost once it can be
 * written again. Never fatal: the agent runs on.
 */
export class AgentLog {
  private fd: number | null = null;
  private size = 0;
  private closed = false;
  private failing: string | null = null;
  /** Lines lost since writing last worked. */
  private lost = 0;

  constructor(
    readonly path: string,
    private readonly limits: LogLimits,
    private readonly trouble: LogTrouble,
  ) {}

  /** Lines lost since writing last worked. */
  get lostLines(): number {
    return this.lost;
  }

  write(prefix: string, bytes: Uint8Array | string): void {
    this.writeLines([{ prefix, text: bytes }]);
  }

  /**
   * Lines in order, each `prefix + text + "\n"`, in as few writes as the size limit allows
   * (one per file): a chunk of an agent's output costs one write, not one per line.
   */
  writeLines(lines: readonly LogLine[]): void {
    if (this.closed || lines.length === 0) return;
    let parts: Uint8Array[] = [];
    let bytes = 0;
    let count = 0;
    const flush = () => {
      if (count > 0) this.appendLines(parts, bytes, count);
      parts = [];
      bytes = 0;
      count = 0;
    };
    for (const line of lines) {
      const lineParts = partsOf(line);
      const length = lineParts.reduce((sum, part) => sum + part.length, 0);
      if (count > 0 && this.size + bytes + length > this.limits.maxBytes) flush();
      parts.push(...lineParts);
      bytes += length;
      count++;
    }
    flush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.failing !== null) this.trouble.closedFailing(this, this.lost);
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** `count` whole lines, `bytes` long in all; lost whole (and counted) if they cannot be written. */
  private appendLines(parts: Uint8Array[], bytes: number, count: number): void {
    if (this.failing !== null && !this.recover()) {
      this.lost += count;
      return;
    }
    // One line is written in its parts (a line may be megabytes); several are joined first.
    const error = this.append(count === 1 ? parts : [Buffer.concat(parts, bytes)], bytes);
    if (error !== null) this.lose(error, count);
  }

  /**
   * Write whole lines, given in parts, rotating first if they would not fit; the error if they
   * could not be written.
   */
  private append(parts: Uint8Array[], length: number): unknown {
    let fd: number;
    try {
      fd = this.open();
      if (this.size > 0 && this.size + length > this.limits.maxBytes) fd = this.rotate();
    } catch (error) {
      return error;
    }
    try {
      writeAll(fd, parts);
    } catch (error) {
      // Half a line is worse than none: cut the file back to where the line began.
      try {
        ftruncateSync(fd, this.size);
      } catch {}
      return error;
    }
    this.size += length;
    return null;
  }

  private open(): number {
    if (this.fd !== null) return this.fd;
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const fd = openSync(this.path, "a", 0o600);
    this.size = fstatSync(fd).size;
    this.fd = fd;
    return fd;
  }

  /** agent.log.N-1 → agent.log.N, …, agent.log → agent.log.1, and a new agent.log. */
  private rotate(): number {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    const { keep } = this.limits;
    if (keep === 0) rmSync(this.path, { force: true });
    for (let n = keep - 1; n >= 1; n--)
      renameIfThere(rotatedPath(this.path, n), rotatedPath(this.path, n + 1));
    if (keep > 0) renameSync(this.path, rotatedPath(this.path, 1));
    return this.open();
  }

  private lose(error: unknown, lines: number): void {
    this.lost += lines;
    if (this.failing !== null) return;
    this.failing = errorMessage(error);
    this.trouble.failed(this, this.failing);
  }

  /** The log says how many lines it lost, if it can be written again: true then. */
  private recover(): boolean {
    const notice = Buffer.from(
      `[agentd: ${this.lost} line(s) could not be written to this log and are lost (${this.failing})]\n`,
    );
    if (this.append([notice], notice.length) !== null) return false;
    const lost = this.lost;
    this.failing = null;
    this.lost = 0;
    this.trouble.recovered(this, lost);
    return true;
  }
}

/** One line of a log: the prefix says where it came from ("[stderr] "), or is empty. */
export interface LogLine {
  prefix: string;
  text: Uint8Array | string;
}

function partsOf(line: LogLine): Uint8Array[] {
  const text = typeof line.text === "string" ? Buffer.from(line.text) : line.text;
  return line.prefix === "" ? [text, NEWLINE] : [Buffer.from(line.prefix), text, NEWLINE];
}

/** writev until every byte of every part is written (a write may take only some). */
function writeAll(fd: number, parts: Uint8Array[]): void {
  let rest = parts.filter((part) => part.length > 0);
  while (rest.length > 0) {
    let written = writevSync(fd, rest);
    while (rest.length > 0 && written >= (rest[0] as Uint8Array).length) {
      written -= (rest[0] as Uint8Array).length;
      rest = rest.slice(1);
    }
    if (written > 0) rest = [(rest[0] as Uint8Array).subarray(written), ...rest.slice(1)];
  }
}

function renameIfThere(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
