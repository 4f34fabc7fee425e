import { MAIN } from "../helpers/daemon.ts";

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

/** Run `agentd ARGS...` from source as a real process and collect what it printed. */
export async function runCli(
  args: readonly string[],
  options: CliOptions = {},
): Promise<CliResult> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
    cwd: options.cwd,
    env: { ...process.env, AGENTD_URL: undefined, AGENTD_TOKEN: undefined, ...options.env },
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}
