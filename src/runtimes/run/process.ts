import type { FileSink, Subprocess } from "bun";
import type { AgentOutput } from "../../ingest/output.ts";
import { groupAlive, signalGroup } from "./process-group.ts";

/** How long to wait for output pipes to drain after the agent's group is gone. */
const DRAIN_TIMEOUT_MS = 5000;
/** How long an agent told goodbye (its input closed) has to exit before it is signalled. */
const GOODBYE_MS = 1000;

export interface ProcessSpec {
  argv: string[];
  cwd: string;
  /** The whole environment of the process. */
  env: Record<string, string>;
}

export interface ProcessExit {
  code: number | null;
  signal: string | null;
  /** True when agentd asked it to stop. */
  stopped: boolean;
}

type Child = Subprocess<"pipe", "pipe", "pipe">;

/**
 * One agent process started by the daemon: its own process group (so signals reach
 * grandchildren), bytes written to its stdin whole and in order, stdout and stderr read into
 * the agent's output, and an exit that is reported only after that output is drained.
 */
export class AgentProcess {
  readonly pid: number;
  /** Resolves once the process has exited and its output is drained. */
  readonly exited: Promise<ProcessExit>;
  private readonly child: Child;
  private readonly stdin: FileSink;
  private writes: Promise<void> = Promise.resolve();
  private stdinOpen = true;
  private stopRequested = false;

  private constructor(child: Child, output: AgentOutput) {
    this.child = child;
    this.pid = child.pid;
    this.stdin = child.stdin;
    const readers = [
      pump(child.stdout, (chunk) => output.stdout(chunk)),
      pump(child.stderr, (chunk) => output.stderr(chunk)),
    ];
    this.exited = this.superviseExit(readers).then((exit) => {
      output.end();
      return exit;
    });
  }

  /** Start the process; throws if it cannot be started (missing command, bad cwd). */
  static start(spec: ProcessSpec, output: AgentOutput): AgentProcess {
    const child = Bun.spawn(spec.argv, {
      cwd: spec.cwd,
      env: spec.env,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      // setsid(): the agent leads its own process group, so stop reaches its children.
      detached: true,
    });
    return new AgentProcess(child, output);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Write bytes to stdin; each write lands whole, in the order they were given. */
  write(bytes: Uint8Array): Promise<void> {
    const next = this.writes.then(async () => {
      if (!this.stdinOpen || !this.running) throw new Error("the agent is no longer reading input");
      this.stdin.write(bytes);
      await this.stdin.flush();
    });
    this.writes = next.catch(() => {});
    return next;
  }

  /**
   * Its input closed first (the end of input is every stdio agent's goodbye); if it is still
   * running after a moment (at most the grace period), SIGTERM to its group; SIGKILL to the
   * group when the grace period after that is over too.
   */
  async stop(graceMs: number): Promise<ProcessExit> {
    this.stopRequested = true;
    this.closeStdin();
    if (await this.exitsWithin(Math.min(GOODBYE_MS, graceMs))) return this.exited;
    signalGroup(this.pid, "SIGTERM");
    if (!(await this.exitsWithin(graceMs))) signalGroup(this.pid, "SIGKILL");
    return this.exited;
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    let timer: Timer | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const exited = await Promise.race([this.child.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return exited;
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

  private async superviseExit(readers: Pump[]): Promise<ProcessExit> {
    await this.child.exited;
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
      code: this.child.exitCode,
      signal: this.child.signalCode === null ? null : String(this.child.signalCode),
      stopped: this.stopRequested,
    };
  }
}

interface Pump {
  done: Promise<void>;
  cancel(): void;
}

/**
 * Read a pipe chunk by chunk. After each chunk the loop yields to the event loop: with data
 * already buffered, `read()` resolves without letting timers or network I/O run, so a
 * flooding agent would otherwise starve the API.
 */
function pump(stream: ReadableStream<Uint8Array>, take: (chunk: Uint8Array) => void): Pump {
  const reader = stream.getReader();
  const done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        take(value);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch {
      // Cancelled or broken pipe: what was read is kept.
    }
  })();
  return { done, cancel: () => void reader.cancel().catch(() => {}) };
}
