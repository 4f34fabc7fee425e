import type { FileSink, Subprocess } from "bun";
import { AgentLog } from "./agent-log.ts";
import { LineSplitter } from "./lines.ts";
import { groupAlive, signalGroup } from "./process-group.ts";

/** A stdout line longer than this is cut in the log and not parsed. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** How long to wait for output pipes to drain after the agent's group is gone. */
const DRAIN_TIMEOUT_MS = 5000;

export interface RunSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  logPath: string;
}

export interface ExitResult {
  code: number | null;
  signal: string | null;
  /** True when agentd asked it to stop. */
  stopped: boolean;
}

export interface RunHandlers {
  stdoutLine(line: string): void;
  stderrLine(line: string): void;
  oversizeLine(totalBytes: number): void;
  exit(result: ExitResult): void;
}

type AgentProcess = Subprocess<"pipe", "pipe", "pipe">;

/**
 * One agent process started by the daemon: its own process group (so signals reach
 * grandchildren), prompts written to stdin one at a time, stdout/stderr read line by line
 * into the agent log, and an exit that is reported only after the output is drained.
 */
export class RunProcess {
  readonly pid: number;
  readonly exited: Promise<ExitResult>;
  private readonly proc: AgentProcess;
  private readonly stdin: FileSink;
  private writes: Promise<void> = Promise.resolve();
  private stdinOpen = true;
  private stopRequested = false;

  private constructor(proc: AgentProcess, log: AgentLog, handlers: RunHandlers) {
    this.proc = proc;
    this.pid = proc.pid;
    this.stdin = proc.stdin;
    const decoder = () => new TextDecoder("utf-8", { fatal: false });
    const stdoutDecoder = decoder();
    const stderrDecoder = decoder();
    const stdout = new LineSplitter(MAX_LINE_BYTES, {
      line: (bytes) => {
        log.write("", bytes);
        handlers.stdoutLine(stdoutDecoder.decode(bytes));
      },
      oversize: (head, total) => {
        log.write("", head);
        log.write("", `[agentd: line of ${total} bytes cut to ${head.length}; not parsed]`);
        handlers.oversizeLine(total);
      },
    });
    const stderr = new LineSplitter(MAX_LINE_BYTES, {
      line: (bytes) => {
        log.write("[stderr] ", bytes);
        handlers.stderrLine(stderrDecoder.decode(bytes));
      },
      oversize: (head, total) => {
        log.write("[stderr] ", head);
        log.write("[stderr] ", `[agentd: line of ${total} bytes cut]`);
      },
    });
    const readers = [pump(proc.stdout, stdout), pump(proc.stderr, stderr)];
    this.exited = this.superviseExit(readers).then((result) => {
      log.close();
      handlers.exit(result);
      return result;
    });
  }

  /** Start the agent; throws if it cannot be started (missing command, bad cwd). */
  static start(spec: RunSpec, handlers: RunHandlers): RunProcess {
    const log = new AgentLog(spec.logPath);
    let proc: AgentProcess;
    try {
      proc = Bun.spawn(spec.argv, {
        cwd: spec.cwd,
        env: spec.env,
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
        // setsid(): the agent leads its own process group, so stop reaches its children.
        detached: true,
      });
    } catch (error) {
      log.close();
      throw error;
    }
    return new RunProcess(proc, log, handlers);
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Write one framed prompt; prompts are written whole and in the order they were given. */
  write(bytes: Uint8Array): Promise<void> {
    const next = this.writes.then(async () => {
      if (!this.stdinOpen || !this.running)
        throw new Error("the agent is no longer reading prompts");
      this.stdin.write(bytes);
      await this.stdin.flush();
    });
    this.writes = next.catch(() => {});
    return next;
  }

  /** SIGTERM to the group and stdin closed; SIGKILL to the group after the grace period. */
  async stop(graceMs: number): Promise<ExitResult> {
    this.stopRequested = true;
    signalGroup(this.pid, "SIGTERM");
    this.closeStdin();
    let timer: Timer | undefined;
    const graceOver = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), graceMs);
    });
    const first = await Promise.race([this.proc.exited, graceOver]);
    clearTimeout(timer);
    if (first === "timeout") signalGroup(this.pid, "SIGKILL");
    return this.exited;
  }

  private closeStdin(): void {
    if (!this.stdinOpen) return;
    this.stdinOpen = false;
    try {
      const ended = this.stdin.end();
      if (ended instanceof Promise) ended.catch(() => {});
    } catch {
      // Already closed by the other side.
    }
  }

  private async superviseExit(readers: Pump[]): Promise<ExitResult> {
    await this.proc.exited;
    this.stdinOpen = false;
    // Whatever the agent left behind in its group goes with it: nothing keeps running.
    if (groupAlive(this.pid)) signalGroup(this.pid, "SIGKILL");
    const drained = Promise.all(readers.map((reader) => reader.done));
    let timer: Timer | undefined;
    const late = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), DRAIN_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (late) {
      // Something outside the group still holds the pipes open; stop reading them.
      for (const reader of readers) reader.cancel();
      await drained;
    }
    return {
      code: this.proc.exitCode,
      signal: this.proc.signalCode === null ? null : String(this.proc.signalCode),
      stopped: this.stopRequested,
    };
  }
}

interface Pump {
  done: Promise<void>;
  cancel(): void;
}

function pump(stream: ReadableStream<Uint8Array>, splitter: LineSplitter): Pump {
  const reader = stream.getReader();
  const done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        splitter.push(value);
      }
    } catch {
      // Cancelled or broken pipe: what was read is kept.
    }
    splitter.end();
  })();
  return { done, cancel: () => void reader.cancel().catch(() => {}) };
}
