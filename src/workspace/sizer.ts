import type { Database } from "bun:sqlite";
import { errorMessage } from "../errors.ts";
import { log } from "../log.ts";
import { getWorkspace, recordWorkspaceSize } from "../store/workspaces.ts";
import { measureSize } from "./size.ts";

/** Long enough for a tree of millions of files on a slow disk; the size is then left as it was. */
export const DEFAULT_SIZE_TIMEOUT_MS = 120_000;

/**
 * Measures workspaces in the background, one at a time, and stores their sizes. Asking returns at
 * once: a turn's end or a stop never waits for a measurement. Asking again for an agent that is
 * already waiting its turn does not queue a second measurement.
 */
export class WorkspaceSizer {
  private readonly queue = new Set<string>();
  private running: Promise<void> | null = null;
  private readonly abort = new AbortController();

  constructor(
    private readonly db: Database,
    private readonly timeoutMs = DEFAULT_SIZE_TIMEOUT_MS,
  ) {}

  /** Measure this agent's workspace soon. */
  request(agentId: string): void {
    if (this.abort.signal.aborted) return;
    this.queue.add(agentId);
    this.running ??= this.drain();
  }

  /** Resolves once every requested measurement is stored. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stop measuring: the queue is dropped and a running `du` is killed. */
  async close(): Promise<void> {
    this.queue.clear();
    this.abort.abort();
    await this.idle();
  }

  /**
   * Measures until the queue is empty, then clears `running` in the same synchronous step that
   * found it empty, so a request never lands in a queue nobody drains. (The queue holds the
   * request that started the drain, so the first measurement's await comes before that.)
   */
  private async drain(): Promise<void> {
    for (;;) {
      const next = this.take();
      if (next === undefined) {
        this.running = null;
        return;
      }
      try {
        await this.measure(next);
      } catch (error) {
        log.warn(`${next}: measuring the workspace failed: ${errorMessage(error)}`);
      }
    }
  }

  private take(): string | undefined {
    const [first] = this.queue;
    if (first !== undefined) this.queue.delete(first);
    return first;
  }

  private async measure(agentId: string): Promise<void> {
    const workspace = getWorkspace(this.db, agentId);
    if (!workspace || workspace.status === "removed") return;
    const size = await measureSize(workspace.path, {
      timeoutMs: this.timeoutMs,
      signal: this.abort.signal,
    });
    // After close() the database may be closing: nothing more is written.
    if (this.abort.signal.aborted) return;
    // The agent may have been deleted meanwhile; the update then matches no row.
    if (size.state === "measured") recordWorkspaceSize(this.db, agentId, size.bytes);
    else if (size.state === "missing") recordWorkspaceSize(this.db, agentId, null);
    else if (size.state === "unfinished") {
      log.warn(
        `${agentId}: measuring ${workspace.path} took over ${this.timeoutMs} ms and was stopped; its size is left as it was`,
      );
    } else if (size.state === "failed") {
      log.warn(`${agentId}: could not measure ${workspace.path}: ${size.error}`);
    }
  }
}
