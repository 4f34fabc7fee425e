import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

/**
 * Set in the bench's own environment, so every process it starts — daemons, agents, baseline
 * programs, wrk, pm2 and its daemon, systemd units — inherits it: whatever outlives its own
 * stop is found by this mark and killed, and nothing of another run or user is touched.
 */
export const RUN_MARK = "AGENTD_BENCH_RUN";
const STOP_WAIT_MS = 10_000;

type Cleanup = () => Promise<void> | void;

/**
 * One bench run: the processes it starts and the temporary files it makes, all ended and
 * removed by close(), also after a failure or Ctrl-C.
 */
export class BenchSession {
  readonly root: string;
  private readonly mark: string;
  private readonly processes = new Set<Subprocess>();
  private readonly cleanups = new Set<Cleanup>();
  private closing: Promise<void> | null = null;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), "agentd-bench-"));
    this.mark = `${process.pid}-${Date.now().toString(36)}`;
    process.env[RUN_MARK] = this.mark;
  }

  /** A fresh directory inside the run's temporary root. */
  dir(prefix: string): string {
    return mkdtempSync(join(this.root, `${prefix}-`));
  }

  /** Have close() end this process if it is still running then. */
  track<T extends Subprocess>(proc: T): T {
    this.processes.add(proc);
    void proc.exited.then(() => this.processes.delete(proc));
    return proc;
  }

  /** Run `cleanup` at close() unless the returned function is called first (when it is done). */
  onClose(cleanup: Cleanup): () => void {
    this.cleanups.add(cleanup);
    return () => this.cleanups.delete(cleanup);
  }

  /** End everything the run started and remove its files; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    for (const cleanup of [...this.cleanups].reverse()) {
      try {
        await withTimeout(Promise.resolve(cleanup()), STOP_WAIT_MS);
      } catch (error) {
        console.error(`bench: cleanup failed: ${error instanceof Error ? error.message : error}`);
      }
    }
    this.cleanups.clear();
    const running = [...this.processes];
    for (const proc of running) proc.kill("SIGTERM");
    await withTimeout(Promise.all(running.map((proc) => proc.exited)), STOP_WAIT_MS).catch(
      () => {},
    );
    for (const pid of this.markedPids()) killQuietly(pid);
    rmSync(this.root, { recursive: true, force: true });
  }

  /** Processes that carry this run's mark, other than the bench itself. */
  private markedPids(): number[] {
    const needle = `\0${RUN_MARK}=${this.mark}\0`;
    const pids: number[] = [];
    for (const entry of readdirSync("/proc")) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || pid === process.pid) continue;
      try {
        const environ = `\0${readFileSync(`/proc/${pid}/environ`, "latin1")}`;
        if (environ.includes(needle)) pids.push(pid);
      } catch {
        // Gone meanwhile, or not ours to read.
      }
    }
    return pids;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
