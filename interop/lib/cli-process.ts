/**
 * A real agent CLI as a child process speaking JSON lines on stdin/stdout: every line in and out
 * is kept (for assertions and transcripts), stdout is split on "\n" only, and stopping it leaves
 * no process of its group behind.
 */

import type { Subprocess } from "bun";
import { waitFor } from "../../test/helpers/wait.ts";
import type { CliSetup } from "./setup.ts";

export interface WireLine {
  /** `in`: written to the CLI's stdin; `out`: read from its stdout. */
  direction: "in" | "out";
  text: string;
  /** The parsed line, or undefined when it is not JSON. */
  json: unknown;
}

type Listener = (message: unknown) => void;

const live = new Set<CliProcess>();

/** Stops every CLI still running (for afterAll/afterEach). */
export async function stopAllClis(): Promise<void> {
  await Promise.all([...live].map((cli) => cli.stop()));
}

export class CliProcess {
  readonly wire: WireLine[] = [];
  private stderrText = "";
  private readonly listeners: Listener[] = [];
  private readonly pumps: Promise<void>[];

  private constructor(
    readonly name: string,
    private readonly proc: Subprocess<"pipe", "pipe", "pipe">,
  ) {
    this.pumps = [this.readStdout(), this.readStderr()];
  }

  /** Starts `setup.command` + `args` in the setup's cwd and environment. */
  static start(setup: CliSetup, args: string[]): CliProcess {
    const proc = Bun.spawn([...setup.command, ...args], {
      cwd: setup.cwd,
      env: setup.env,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      // Its own process group, so stop() reaches whatever the CLI started (tools, helpers).
      detached: true,
    });
    const cli = new CliProcess(setup.name, proc);
    live.add(cli);
    return cli;
  }

  get pid(): number {
    return this.proc.pid;
  }

  get exited(): Promise<number> {
    return this.proc.exited;
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** Parsed stdout messages, in order. */
  get received(): unknown[] {
    return this.wire.filter((line) => line.direction === "out").map((line) => line.json);
  }

  /** Called with every parsed stdout message from now on. */
  onMessage(listener: Listener): void {
    this.listeners.push(listener);
  }

  send(message: unknown): void {
    const text = JSON.stringify(message);
    this.wire.push({ direction: "in", text, json: message });
    this.proc.stdin.write(`${text}\n`);
    this.proc.stdin.flush();
  }

  /** The first stdout message at or after index `from` that `match` accepts. */
  async waitForMessage<T>(
    what: string,
    match: (message: T) => boolean,
    options: { from?: number; timeoutMs?: number } = {},
  ): Promise<T> {
    const found = await waitFor<{ hit: T } | { exited: true }>(
      `${this.name}: ${what}`,
      () => {
        const messages = this.received.slice(options.from ?? 0) as T[];
        const index = messages.findIndex((message) => message !== undefined && match(message));
        if (index !== -1) return { hit: messages[index] as T };
        return this.running ? undefined : { exited: true as const };
      },
      options.timeoutMs ?? 60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nstderr:\n${this.stderrText.slice(-4000)}`);
    });
    if (!("hit" in found)) {
      const ended = this.proc.exitCode ?? this.proc.signalCode;
      throw new Error(
        `${this.name} ended (${ended}) before ${what}; stderr:\n${this.stderrText.slice(-4000)}`,
      );
    }
    return found.hit;
  }

  /** Closes stdin (end of input, which every CLI here treats as "finish and exit"). */
  closeStdin(): void {
    this.proc.stdin.end();
  }

  /**
   * Ends the CLI: stdin closed first, then SIGTERM and SIGKILL to its process group if it does
   * not exit on its own. Returns how it ended.
   */
  async stop(
    graceMs = 5_000,
  ): Promise<{ exitCode: number | null; signal: string | null; how: string }> {
    live.delete(this);
    let how = "exited after stdin closed";
    if (this.running) this.safely(() => this.proc.stdin.end());
    if (!(await this.exitsWithin(graceMs))) {
      how = "exited on SIGTERM";
      this.signalGroup("SIGTERM");
      if (!(await this.exitsWithin(graceMs))) {
        how = "killed";
        this.signalGroup("SIGKILL");
        await this.proc.exited;
      }
    }
    // Helpers the CLI left in its group (tool shells, sub-processes) go too.
    this.signalGroup("SIGKILL");
    await Promise.all(this.pumps);
    const signal = this.proc.signalCode;
    return { exitCode: this.proc.exitCode, signal: signal === null ? null : String(signal), how };
  }

  /** True while any process of the CLI's group is alive. */
  groupAlive(): boolean {
    try {
      process.kill(-this.proc.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  private get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    if (!this.running) return true;
    let timer: Timer | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const exited = await Promise.race([this.proc.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return exited;
  }

  private signalGroup(signal: NodeJS.Signals): void {
    this.safely(() => process.kill(-this.proc.pid, signal));
  }

  private safely(action: () => void): void {
    try {
      action();
    } catch {
      // The process or its group is already gone.
    }
  }

  private async readStdout(): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of this.proc.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      // "\n" only: JSON strings may hold U+2028/U+2029, which other line readers split on.
      let newline = buffered.indexOf("\n");
      while (newline !== -1) {
        this.receive(buffered.slice(0, newline).replace(/\r$/, ""));
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf("\n");
      }
    }
    if (buffered !== "") this.receive(buffered);
  }

  private receive(text: string): void {
    if (text.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    this.wire.push({ direction: "out", text, json });
    if (json !== undefined) for (const listener of this.listeners) listener(json);
  }

  private async readStderr(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.proc.stderr)
      this.stderrText += decoder.decode(chunk, { stream: true });
  }
}
