import type { Database } from "bun:sqlite";
import type { EventBus } from "../events/bus.ts";
import { log } from "../log.ts";
import {
  type AgentPatch,
  type AgentRecord,
  getAgent,
  insertAgent,
  type NewAgent,
  updateAgent,
} from "../store/agents.ts";
import { nowIso } from "../store/time.ts";
import type { Transactions } from "../store/transactions.ts";
import type { WebhookOutbox } from "../webhooks/outbox.ts";
import type { AgentStatus } from "./status.ts";
import type { AgentTurns } from "./turns.ts";

export interface LifecycleDeps {
  db: Database;
  transactions: Transactions;
  bus: EventBus;
  outbox: WebhookOutbox;
  turns: AgentTurns;
}

/** How an agent's process ended. */
export interface Exit {
  code: number | null;
  signal: string | null;
  /** agentd (or an operator) asked it to stop. */
  stopped: boolean;
  /** Why it failed, where the exit status alone does not say (e.g. systemd gave up). */
  failure?: string | undefined;
  /** It is being started again at once (an automatic restart): it is starting, not over. */
  restarting?: boolean | undefined;
}

const NO_PROCESS = { pid: null, pid_start: null };

/** A cancelled turn's reason when its agent was stopped under it. */
export const STOPPED_MID_TURN = "the agent was stopped";

/**
 * Every status transition of every agent, whatever its mode: each one updates the record, is
 * recorded as a `status` event, and fires the webhook of a final status. Runtimes report what
 * happened to their processes here; they never set a status themselves.
 */
export class AgentLifecycle {
  constructor(private readonly deps: LifecycleDeps) {}

  /** A new agent: its row, and its first status as an event. */
  created(agent: NewAgent): AgentRecord {
    return this.deps.transactions.run(() => {
      const record = insertAgent(this.deps.db, agent);
      this.deps.turns.created(record.id);
      this.deps.bus.record(record.id, "status", { status: record.status, previous: null });
      return record;
    });
  }

  /** A (re)start begins: the last run's outcome is cleared. */
  starting(id: string, patch: AgentPatch = {}): AgentRecord | null {
    return this.set(id, "starting", {
      error: null,
      exit_code: null,
      completed_at: null,
      started_at: nowIso(),
      ...patch,
    });
  }

  /**
   * The process is up and ready for prompts: busy if a turn is already waiting. `pidStart`
   * (its start time, clock ticks after boot) tells it from a later process with the same pid.
   */
  ready(id: string, pid: number | null, pidStart: number | null = null): AgentRecord | null {
    const status = this.deps.turns.hasOpen(id) ? "running" : "idle";
    return this.set(id, status, { pid, pid_start: pidStart });
  }

  stopping(id: string): AgentRecord | null {
    return this.set(id, "stopping");
  }

  /** A turn began: the agent is busy. */
  turnBegan(id: string): void {
    const agent = getAgent(this.deps.db, id);
    if (agent && (agent.status === "idle" || agent.status === "starting")) this.set(id, "running");
  }

  /** A turn ended: idle once nothing else is in flight. */
  turnEnded(id: string, patch: AgentPatch = {}): AgentRecord | null {
    const agent = getAgent(this.deps.db, id);
    if (!agent) return null;
    const working =
      agent.status === "running" || agent.status === "idle" || agent.status === "starting";
    if (working && !this.deps.turns.hasOpen(id)) return this.set(id, "idle", patch);
    return updateAgent(this.deps.db, id, patch);
  }

  /**
   * The agent's process ended. Its open turns end with it (cancelled when it was stopped), an
   * `exit` event records how, and the status says what it means: stopped, completed (exit 0
   * on its own), failed — or starting, when it is being restarted.
   */
  exited(id: string, exit: Exit): AgentRecord | null {
    return this.deps.transactions.run(() => this.recordExit(id, exit));
  }

  private recordExit(id: string, exit: Exit): AgentRecord | null {
    const how = describeExit(exit);
    if (exit.stopped) this.deps.turns.closeOpen(id, "cancelled", STOPPED_MID_TURN);
    else this.deps.turns.closeOpen(id, "error", `the agent ${how} before answering`);
    this.deps.bus.record(id, "exit", {
      code: exit.code,
      signal: exit.signal,
      stopped: exit.stopped,
    });
    log.info(`${id}: ${how}`);
    if (exit.restarting) return this.set(id, "starting", NO_PROCESS);
    const ended = { ...NO_PROCESS, exit_code: exit.code, completed_at: nowIso() };
    if (exit.stopped) return this.set(id, "stopped", ended);
    if (exit.failure === undefined && exit.code === 0 && exit.signal === null) {
      return this.set(id, "completed", ended);
    }
    return this.set(id, "failed", { ...ended, error: exit.failure ?? `the agent ${how}` });
  }

  /** The process could not be started at all. */
  failedToStart(id: string, error: string): AgentRecord | null {
    return this.set(id, "failed", { ...NO_PROCESS, error, completed_at: nowIso() });
  }

  /** The process vanished while no daemon watched it: whatever it was doing is over. */
  lost(id: string, reason: string): AgentRecord | null {
    return this.deps.transactions.run(() => {
      this.deps.turns.closeOpen(id, "error", reason);
      return this.set(id, "lost", { ...NO_PROCESS, error: reason, completed_at: nowIso() });
    });
  }

  /**
   * The process is restarted automatically (after `delayMs`, where agentd waits); `restarts`
   * counts those since the last start by hand.
   */
  restarted(id: string, restarts: number, delayMs?: number): void {
    this.deps.transactions.run(() => {
      this.deps.bus.record(
        id,
        "restart",
        delayMs === undefined ? { restarts } : { restarts, delay_ms: delayMs },
      );
      updateAgent(this.deps.db, id, { restarts });
    });
  }

  /** Fields that are not a transition: a new pid, a restart count. */
  update(id: string, patch: AgentPatch): AgentRecord | null {
    return updateAgent(this.deps.db, id, patch);
  }

  /**
   * Change status (with any other fields), record it as an event, and fire its webhook: all
   * of it or none.
   */
  private set(id: string, status: AgentStatus, patch: AgentPatch = {}): AgentRecord | null {
    return this.deps.transactions.run(() => this.transition(id, status, patch));
  }

  private transition(id: string, status: AgentStatus, patch: AgentPatch): AgentRecord | null {
    const before = getAgent(this.deps.db, id);
    if (!before) return null;
    const after = updateAgent(this.deps.db, id, { ...patch, status });
    if (!after || before.status === status) return after;
    this.deps.bus.record(id, "status", {
      status,
      previous: before.status,
      ...(after.error && status === "failed" ? { error: after.error } : {}),
    });
    if (status === "stopped" || status === "completed" || status === "failed") {
      this.deps.outbox.notify(after, status, null, status === "failed" ? after.error : null);
    }
    return after;
  }
}

export function describeExit(exit: Pick<Exit, "code" | "signal">): string {
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}
