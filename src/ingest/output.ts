import { errorMessage } from "../errors.ts";
import { log } from "../log.ts";
import type { AgentLog, LogLine } from "../logs/agent-log.ts";
import type { AgentEvent } from "../protocols/session.ts";
import { LineSplitter } from "./lines.ts";

/** How stderr lines are marked in the agent log and in their `log` events. */
export const STDERR_PREFIX = "[stderr] ";

/** A stdout line longer than this is cut in the log and not parsed. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** What one chunk of output amounts to. */
export interface OutputBatch {
  events: AgentEvent[];
  /** Stdout bytes of whole lines taken in so far: where reading resumes after a restart. */
  consumed: number;
}

/** The events one stdout line means: a protocol session's `receive`. */
export type LineReader = (line: string) => AgentEvent[];

/**
 * One agent's output on its way in, the same for every runtime: split on "\n" only, every
 * line copied into the agent log, stdout lines read by the protocol session, stderr lines
 * kept as log events. Each chunk becomes one batch, which the caller applies at once (one
 * transaction), and one write to the log, so a flood of lines costs a transaction and a write
 * per read rather than per line.
 */
export class AgentOutput {
  private events: AgentEvent[] = [];
  /** The chunk's lines for the log, written when the chunk is done. */
  private logLines: LogLine[] = [];
  private readonly stdoutLines: LineSplitter;
  private readonly stderrLines: LineSplitter;
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });

  constructor(
    private readonly agentId: string,
    private readonly agentLog: AgentLog,
    private readonly read: LineReader,
    private readonly apply: (batch: OutputBatch) => void,
  ) {
    this.stdoutLines = new LineSplitter(MAX_LINE_BYTES, {
      line: (bytes) => {
        this.logLines.push({ prefix: "", text: bytes });
        for (const event of this.readLine(this.decoder.decode(bytes))) this.events.push(event);
      },
      oversize: (head, total) => {
        this.logLines.push(
          { prefix: "", text: head },
          {
            prefix: "",
            text: `[agentd: line of ${total} bytes cut to ${head.length}; not parsed]`,
          },
        );
        this.events.push({
          type: "log",
          level: "warn",
          message: `skipped an output line of ${total} bytes (over the 16 MiB limit); it is cut in the log`,
        });
      },
    });
    this.stderrLines = new LineSplitter(MAX_LINE_BYTES, {
      line: (bytes) => {
        this.logLines.push({ prefix: STDERR_PREFIX, text: bytes });
        const message = `${STDERR_PREFIX}${this.decoder.decode(bytes)}`;
        this.events.push({ type: "log", level: "info", message });
      },
      oversize: (head, total) => {
        this.logLines.push(
          { prefix: STDERR_PREFIX, text: head },
          { prefix: STDERR_PREFIX, text: `[agentd: line of ${total} bytes cut]` },
        );
      },
    });
  }

  stdout(chunk: Uint8Array): void {
    this.stdoutLines.push(chunk);
    this.flush();
  }

  stderr(chunk: Uint8Array): void {
    this.stderrLines.push(chunk);
    this.flush();
  }

  /** The streams ended: last lines without a "\n" still count. */
  end(): void {
    this.stdoutLines.end();
    this.stderrLines.end();
    this.flush();
  }

  private readLine(line: string): AgentEvent[] {
    try {
      const events = this.read(line);
      if (events.length === 0 && line.trim() !== "") {
        log.debug(`${this.agentId}: skipped an output line its protocol does not know`);
      }
      return events;
    } catch (error) {
      const message = `could not read an output line: ${errorMessage(error)}`;
      return [{ type: "log", level: "warn", message }];
    }
  }

  /** The chunk is done: its lines go to the log (before the chunk's buffer is read again), its events on. */
  private flush(): void {
    const lines = this.logLines;
    this.logLines = [];
    this.agentLog.writeLines(lines);
    const events = this.events;
    this.events = [];
    this.apply({ events, consumed: this.stdoutLines.completedBytes });
  }
}
