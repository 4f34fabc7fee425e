import type { Database } from "bun:sqlite";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { openDatabase } from "../../src/store/db.ts";
import { readAnswer } from "./http.ts";
import { tempDir } from "./tmp.ts";
import { waitFor } from "./wait.ts";

export const REPO_ROOT = resolve(import.meta.dir, "../..");
export const MAIN = join(REPO_ROOT, "src/main.ts");

export interface DaemonOptions {
  /** Directory for db, logs, workspaces and state; a fresh temp dir by default. */
  home?: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Command that starts agentd; the source entry point by default. */
  command?: string[];
}

export interface TestDaemon extends ApiClient {
  url: string;
  home: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  stderr(): string;
  /** Send a signal and wait for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

const running = new Set<TestDaemon>();

/** The test daemon's own SQLite file (WAL: safe to read beside the running daemon). */
export function daemonDatabase(daemon: { home: string }): Database {
  return openDatabase(daemonPaths(daemon.home).db);
}

export function daemonPaths(home: string) {
  return {
    db: join(home, "agentd.db"),
    logRoot: join(home, "logs"),
    workspace: join(home, "workspaces"),
    stateDir: join(home, "agents"),
  };
}

/** Start a real daemon on a free port and wait until it says where it listens. */
export async function startDaemon(options: DaemonOptions = {}): Promise<TestDaemon> {
  const home = options.home ?? tempDir("agentd-daemon-");
  const paths = daemonPaths(home);
  const command = options.command ?? [process.execPath, "--no-orphans", MAIN];
  const proc = Bun.spawn(
    [
      ...command,
      "daemon",
      "--port",
      "0",
      "--db",
      paths.db,
      "--log-root",
      paths.logRoot,
      "--workspace",
      paths.workspace,
      "--state-dir",
      paths.stateDir,
      ...(options.args ?? []),
    ],
    {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, AGENTD_TOKEN: undefined, ...options.env },
    },
  );
  let stdout = "";
  let stderr = "";
  void collect(proc.stdout, (text) => {
    stdout += text;
  });
  void collect(proc.stderr, (text) => {
    stderr += text;
  });
  const exitedEarly = proc.exited.then((code) => {
    throw new Error(`daemon exited with ${code} before listening:\n${stderr}`);
  });
  const listening = waitFor(
    "the daemon to print its address",
    () => /listening on (\S+)/.exec(stdout)?.[1],
    20_000,
  );
  const url = await Promise.race([listening, exitedEarly]).catch((error) => {
    proc.kill("SIGKILL");
    throw error;
  });
  exitedEarly.catch(() => {});

  const daemon: TestDaemon = {
    url,
    home,
    proc,
    stderr: () => stderr,
    api: apiClient(url).api,
    async stop(signal = "SIGTERM") {
      running.delete(daemon);
      if (proc.exitCode === null) proc.kill(signal);
      return await proc.exited;
    },
  };
  running.add(daemon);
  return daemon;
}

/** Talks JSON to a daemon at `url`; its answers parsed when they are JSON. */
export interface ApiClient {
  api<T = unknown>(path: string, init?: RequestInit): Promise<{ status: number; body: T }>;
}

/** A client for a daemon the test did not start itself (one systemd runs), with its token. */
export function apiClient(url: string, token: string | null = null): ApiClient {
  return {
    async api<T>(path: string, init: RequestInit = {}) {
      const headers = new Headers(init.headers);
      if (init.body !== undefined && !headers.has("content-type")) {
        headers.set("content-type", "application/json");
      }
      if (token !== null && !headers.has("authorization")) {
        headers.set("authorization", `Bearer ${token}`);
      }
      return readAnswer<T>(await fetch(`${url}${path}`, { ...init, headers }));
    },
  };
}

/** Kill every daemon a test left running (called from afterAll in files that start daemons). */
export async function stopAllDaemons(): Promise<void> {
  await Promise.all([...running].map((daemon) => daemon.stop("SIGKILL")));
}

/** Read a child's output as it comes. */
export async function collect(stream: ReadableStream<Uint8Array>, onText: (text: string) => void) {
  const decoder = new TextDecoder();
  for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
}
