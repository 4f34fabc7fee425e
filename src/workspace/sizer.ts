import type { Database } from "bun:sqlite";
import { errorMessage } from "../errors.ts";
import { log } from "../log.ts";
import { getWorkspace, recordWorkspaceSize } from "../store/workspaces.ts";
import { Rests } from "./rests.ts";
import { measureSize as measureTree } from "./size.ts";

/** Long enough for a tree of millions of files on a slow disk; the size is then left as it was. */
export const DEFAULT_SIZE_TIMEOUT_MS = 120_000;

/**
 * A workspace is measured again no sooner than this after its last measurement began, and no
 * sooner than `RESTING_FACTOR` times as long as that one took: an agent answering turns in a
 * millisecond must not start a `du` per turn, nor a huge tree keep one walking all the time.
 */
const MIN_SPACING_MS = 1000;
const RESTING_FACTOR = 10;

/**
 * Measures workspaces in the background, one at a time, and stores their sizes. Asking returns at
 * once: a turn's end or a stop never waits for a measurement. Asking again for an agent that is
 * already waiting its turn does not queue a second measurement, and an agent measured lately is
 * measured again once its rest is over (see MIN_SPACING_MS), however often it was asked for.
 */
export class WorkspaceSizer {
  private readonly queue = new Set<string>();
  /** Agents measured lately (from the start of their measurement). */
  private readonly rests = new Rests((agentId) => this.request(agentId));
  private running: Promise<void> | null = null;
  private readonly abort = new AbortController();

  constructor(
    private readonly db: Database,
    private readonly timeoutMs = DEFAULT_SIZE_TIMEOUT_MS,
    private readonly measureSize: typeof measureTree = measureTree,
  ) {}

  /** Measure this agent's workspace soon. */
  request(agentId: string): void {
    if (this.abort.signal.aborted || this.rests.defer(agentId)) return;
    this.queue.add(agentId);
    this.running ??= this.drain();
  }

  /** Resolves once every requested measurement is stored. */
  async idle(): Promise<void> {
    for (;;) {
      if (this.running) await this.running;
      await this.rests.resumed();
      if (!this.running) return;
    }
  }

  /** Stop measuring: the queue and the rests are dropped and a running `du` is killed. */
  async close(): Promise<void> {
    this.queue.clear();
    this.abort.abort();
    this.rests.clear();
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
      const rest = this.rests.begin(next);
      const began = performance.now();
      try {
        await this.measure(next);
      } catch (error) {
        log.warn(`${next}: measuring the workspace failed: ${errorMessage(error)}`);
      }
      const took = performance.now() - began;
      if (!this.abort.signal.aborted) rest.endIn(Math.max(MIN_SPACING_MS, RESTING_FACTOR * took));
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
    const size = await this.measureSize(workspace.path, {
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
