import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { waitFor } from "../../test/helpers/wait.ts";
import { rssKb } from "./proc.ts";
import { type BenchSession, withTimeout } from "./session.ts";

const OUTPUT_TAIL = 16 * 1024;

export interface AgentdOptions {
  /** Directory for its database, logs, workspaces and state; fresh by default. */
  home?: string;
  args?: string[];
  env?: Record<string, string | undefined>;
}

/** An agentd daemon, started with the command under test, on a free port. */
export class Agentd {
  private constructor(
    readonly url: string,
    readonly home: string,
    private readonly proc: Subprocess<"ignore", number, number>,
    private readonly output: () => string,
  ) {}

  static async start(
    session: BenchSession,
    command: string[],
    options: AgentdOptions = {},
  ): Promise<Agentd> {
    const home = options.home ?? session.dir("agentd");
    // Its output goes to a file: a pipe the bench drains could fill up and hold the daemon back.
    const outputPath = join(home, "daemon.out");
    const output = openSync(outputPath, "a");
    const proc = session.track(
      Bun.spawn([...command, "daemon", "--port", "0", ...homeArgs(home), ...(options.args ?? [])], {
        stdin: "ignore",
        stdout: output,
        stderr: output,
        env: { ...process.env, AGENTD_TOKEN: undefined, ...options.env },
      }),
    );
    closeSync(output);
    const recentOutput = () => tail(outputPath);
    const url = await waitFor(
      "agentd to print where it listens",
      () => {
        const found = /^listening on (\S+)$/m.exec(recentOutput())?.[1];
        if (found) return found;
        if (proc.exitCode !== null) {
          throw new Error(`agentd exited with ${proc.exitCode}: ${recentOutput()}`);
        }
      },
      30_000,
    ).catch((error) => {
      proc.kill("SIGKILL");
      throw error;
    });
    return new Agentd(url, home, proc, recentOutput);
  }

  get pid(): number {
    return this.proc.pid;
  }

  get databasePath(): string {
    return join(this.home, "agentd.db");
  }

  rssKb(): number {
    return rssKb(this.pid);
  }

  /** Call the API; an answer other than 2xx is an error that carries the daemon's message. */
  async api<T = Record<string, unknown>>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await this.fetch(path, init);
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`${init.method ?? "GET"} ${path} answered ${response.status}: ${text}`);
    }
    return (text === "" ? {} : JSON.parse(text)) as T;
  }

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (init.body !== undefined) headers.set("content-type", "application/json");
    return fetch(`${this.url}${path}`, { ...init, headers });
  }

  post<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T> {
    return this.api<T>(path, {
      method: "POST",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** SIGTERM (it stops its runs), then SIGKILL if it has not exited in time. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill("SIGTERM");
    await withTimeout(this.proc.exited, 20_000).catch(() => {
      this.proc.kill("SIGKILL");
      return this.proc.exited;
    });
  }

  /** What it printed last, for error messages. */
  recentOutput(): string {
    return this.output();
  }
}

/** The flags that keep a daemon's files inside `home`. */
export function homeArgs(home: string): string[] {
  return [
    "--db",
    join(home, "agentd.db"),
    "--log-root",
    join(home, "logs"),
    "--workspace",
    join(home, "workspaces"),
    "--state-dir",
    join(home, "agents"),
  ];
}

/** The last bytes of a file, as text. */
function tail(path: string): string {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, OUTPUT_TAIL);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString("utf8");
  } finally {
    closeSync(fd);
  }
}
