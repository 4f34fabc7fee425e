import type { Subprocess } from "bun";
import { collect, MAIN } from "../helpers/daemon.ts";

export interface CliResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface CliOptions {
  /** Added to this process's environment, from which AGENTD_URL and AGENTD_TOKEN are removed. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  stdin?: string;
}

/** A CLI process still running, for commands that stream until stopped. */
export interface RunningCli {
  proc: Subprocess;
  /** What it printed so far. */
  stdout(): string;
  stderr(): string;
  /** Everything it printed and its exit code, once it has exited. */
  result(): Promise<CliResult>;
}

/** Run `agentd ARGS...` from source as a real process and collect what it printed. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result();
}

/** Start `agentd ARGS...` from source as a real process; what it prints is collected as it comes. */
export function startCli(args: readonly string[], options: CliOptions = {}): RunningCli {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
    cwd: options.cwd,
    env: { ...process.env, AGENTD_URL: undefined, AGENTD_TOKEN: undefined, ...options.env },
  });
  let stdout = "";
  let stderr = "";
  const collected = Promise.all([
    collect(proc.stdout, (text) => {
      stdout += text;
    }),
    collect(proc.stderr, (text) => {
      stderr += text;
    }),
  ]);
  return {
    proc,
    stdout: () => stdout,
    stderr: () => stderr,
    async result() {
      const code = await proc.exited;
      await collected;
      return { stdout, stderr, code };
    },
  };
}

/** What the CLI says about an agent that no id, name or id prefix names ("nope"). */
export const NO_AGENT =
  'agentd: no agent has the id or name "nope", nor an id starting with it; `agentd ls` lists them\n';
