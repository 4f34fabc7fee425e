import type { FileSink, Subprocess } from "bun";
import type { AgentOutput } from "../../ingest/output.ts";
import { InputQueue } from "../input-queue.ts";
import { processInfo, processStart } from "../procfs.ts";
import { AGENT_ID_VARIABLE, agentProcesses, killAll, signalEach } from "./process-tree.ts";

/** How long to wait for output pipes to drain after the agent's processes are gone. */
const DRAIN_TIMEOUT_MS = 5000;
/** How long an agent told goodbye (its input closed) has to exit before it is signalled. */
const GOODBYE_MS = 1000;
/** Output taken in at once, as one batch (one transaction), between turns of the event loop. */
const BATCH_BYTES = 64 * 1024;
/** How long what an agent left behind may take to die of SIGKILL. */
const LEFTOVERS_MS = 2000;

export interface ProcessSpec {
  /** The agent it runs for: its processes, wherever they went, carry this id. */
  agentId: string;
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
  /** Why agentd killed it as a failure (see `kill`). */
  failure?: string;
}

type Child = Subprocess<"pipe", "pipe", "pipe">;

/**
 * One agent process started by the daemon: its own process group and session, its
 * descendants known wherever they go (see process-tree.ts), bytes written to its stdin whole
 * and in order, stdout and stderr read into the agent's output, and an exit that is reported
 * only after everything it left behind is killed and its output is drained.
 */
export class AgentProcess {
  readonly pid: number;
  /** When it started (clock ticks after boot): with the pid, which process it is. */
  readonly start: number | null;
  /** Resolves once the process has exited and its output is drained. */
  readonly exited: Promise<ProcessExit>;
  private readonly child: Child;
  private readonly stdin: FileSink;
  private readonly input = new InputQueue(
    async (bytes) => {
      this.stdin.write(bytes);
      await this.stdin.flush();
    },
    // The agent went away with input still waiting: its exit says what happened.
    () => {},
  );
  private stdinOpen = true;
  private stopRequested = false;
  private failure: string | null = null;

  private constructor(
    private readonly agentId: string,
    child: Child,
    output: AgentOutput,
  ) {
    this.child = child;
    this.pid = child.pid;
    this.start = processStart(child.pid);
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
      env: { ...spec.env, [AGENT_ID_VARIABLE]: spec.agentId },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      // setsid(): the agent leads its own process group, so stop reaches its children.
      detached: true,
    });
    return new AgentProcess(spec.agentId, child, output);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Take bytes for its stdin: each write lands whole, in the order given, written in the
   * background; refused at once (InputRefusedError) while the agent is not reading.
   */
  async write(bytes: Uint8Array): Promise<void> {
    if (!this.stdinOpen || !this.running) throw new Error("the agent is no longer reading input");
    this.input.accept(bytes);
  }

  /**
   * Its input closed first (the end of input is every stdio agent's goodbye); if it is still
   * running after a moment (at most the grace period), SIGTERM to all its processes; SIGKILL
   * when the grace period after that is over too.
   */
  async stop(graceMs: number): Promise<ProcessExit> {
    this.stopRequested = true;
    this.closeStdin();
    if (await this.exitsWithin(Math.min(GOODBYE_MS, graceMs))) return this.exited;
    signalEach(this.processes(), "SIGTERM");
    if (!(await this.exitsWithin(graceMs))) signalEach(this.processes(), "SIGKILL");
    return this.exited;
  }

  /** Kill it (and all it started) at once, as a failure: it is stuck (`reason`). */
  async kill(reason: string): Promise<ProcessExit> {
    this.failure = reason;
    signalEach(this.processes(), "SIGKILL");
    return this.exited;
  }

  /**
   * Every process of the agent still alive: this one, and whatever it started. Its group and
   * session count only while its pid is not another process's (once it has exited, the pid
   * may be reused by a new leader).
   */
  private processes() {
    const now = processInfo(this.pid);
    const stillItsPid = now === null || now.start === this.start;
    return agentProcesses(this.agentId, stillItsPid ? this.pid : null);
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
    // Whatever the agent left behind goes with it, wherever it went: nothing keeps running, and
    // nothing holds its output pipes open.
    await killAll(this.processes(), LEFTOVERS_MS);
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
      // Something out of reach (it dropped the agent's id from its environment) still holds
      // the pipes open; stop reading them.
      for (const reader of readers) reader.cancel();
      await drained;
    }
    return {
      code: this.child.exitCode,
      signal: this.child.signalCode === null ? null : String(this.child.signalCode),
      stopped: this.stopRequested,
      ...(this.failure === null ? {} : { failure: this.failure }),
    };
  }
}

interface Pump {
  done: Promise<void>;
  cancel(): void;
}

/**
 * Read a pipe chunk by chunk, in pieces of at most BATCH_BYTES (Bun hands over what it has
 * buffered, hundreds of KiB at a time from a flooding agent). After each piece the loop
 * yields to the event loop: with data already buffered, `read()` resolves without letting
 * timers or network I/O run, so a flooding agent would otherwise starve the API.
 */
function pump(stream: ReadableStream<Uint8Array>, take: (chunk: Uint8Array) => void): Pump {
  const reader = stream.getReader();
  const done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (let at = 0; at < value.length; at += BATCH_BYTES) {
          take(value.subarray(at, at + BATCH_BYTES));
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    } catch {
      // Cancelled or broken pipe: what was read is kept.
    }
  })();
  return { done, cancel: () => void reader.cancel().catch(() => {}) };
}
