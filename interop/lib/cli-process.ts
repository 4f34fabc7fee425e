/**
 * A real agent CLI as a child process speaking JSON lines on stdin/stdout: every line in and out
 * is kept (for assertions and transcripts), stdout is split on "\n" only, and stopping it leaves
 * no process of its group behind.
 */

import { readdirSync, readFileSync } from "node:fs";
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

export interface StopResult {
  exitCode: number | null;
  signal: string | null;
  how: "exited after stdin closed" | "exited on SIGTERM" | "killed";
  /** Command lines of processes of the CLI's group that were still alive after it exited. */
  leftovers: string[];
}

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

  /**
   * Ends the CLI: stdin closed first, then SIGTERM and SIGKILL to its process group if it does
   * not exit on its own. Returns how it ended, and the commands of any processes of its group
   * still alive after it exited (which are then killed).
   */
  async stop(graceMs = 5_000): Promise<StopResult> {
    live.delete(this);
    let how: StopResult["how"] = "exited after stdin closed";
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
    const leftovers = await this.leftoversAfter(graceMs);
    if (leftovers.length > 0) this.signalGroup("SIGKILL");
    await Promise.all(this.pumps);
    const signal = this.proc.signalCode;
    return {
      exitCode: this.proc.exitCode,
      signal: signal === null ? null : String(signal),
      how,
      leftovers,
    };
  }

  /** Living (not zombie) processes of the CLI's group, by command line. */
  groupMembers(): string[] {
    return livingGroupMembers(this.proc.pid);
  }

  /** Members of the group that outlive the CLI by more than `ms` (helpers it did not end). */
  private async leftoversAfter(ms: number): Promise<string[]> {
    const deadline = Date.now() + ms;
    let members = this.groupMembers();
    while (members.length > 0 && Date.now() < deadline) {
      await Bun.sleep(50);
      members = this.groupMembers();
    }
    return members;
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

/**
 * Processes of a group that are alive, from /proc (Linux). Zombies do not count: this machine's
 * init reaps orphans only now and then, and a zombie is dead already.
 */
export function livingGroupMembers(pgid: number): string[] {
  const members: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command (which may hold spaces and parentheses): state, ppid, pgrp, …
      const [state, , group] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(group) !== pgid || state === "Z") continue;
      members.push(readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim());
    } catch {
      // The process ended while we looked.
    }
  }
  return members;
}
