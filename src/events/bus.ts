import type { Database } from "bun:sqlite";
import type { EventData, EventType, StoredEvent } from "../api/events.ts";
import { log } from "../log.ts";
import { appendEvents, countEvents, latestEventSeq, pruneOldestEvents } from "../store/events.ts";
import { PendingWrites } from "../store/pending-writes.ts";
import { nowIso } from "../store/time.ts";
import type { Transactions } from "../store/transactions.ts";
import { EventSubscription, type SubscriptionOptions } from "./subscription.ts";

export type EventListener = (event: StoredEvent) => void;

/** Part of the daemon itself that follows every event (metrics, workspaces); not a stream. */
export interface EventObserver {
  /** An event, once its transaction has committed. */
  event(event: StoredEvent): void;
  /** The agent was removed, with its events. */
  forget?(agentId: string): void;
}

/**
 * Stores every event (giving it its seq) and hands it to live subscribers once the
 * transaction that stored it has committed. The events of a transaction are written together
 * at its end, in the order recorded (a row for each run of one agent's events). An
 * agent's events beyond the retention are pruned in the same transaction as the batch that
 * pushed them past it: however fast an agent writes, it never has more than the retention
 * committed.
 */
export class EventBus {
  private readonly listeners = new Set<EventListener>();
  /** The daemon's own reactions to events; not event streams, so not counted as subscribers. */
  private readonly observers = new Set<EventObserver>();
  /**
   * Events stored per agent: counted once, then kept up to date with each event recorded and
   * each prune; forgotten (counted again when next needed) when a transaction that changed it
   * rolls back. Exact, so a prune can take exactly the oldest ones past the retention.
   */
  private readonly counts = new Map<string, number>();
  /** Events recorded in the transaction under way, each given its seq when written. */
  private readonly unwritten: PendingWrites<StoredEvent>;
  /** Agents whose events went past the retention in the transaction under way. */
  private readonly overRetention = new Set<string>();
  private readonly pruneStep = () => this.pruneAll();
  private readonly forgetCounts = () => this.counts.clear();

  constructor(
    private readonly db: Database,
    private readonly transactions: Transactions,
    private readonly retention: number,
  ) {
    this.unwritten = new PendingWrites(transactions, "events", (events) => {
      appendEvents(db, events);
      transactions.afterCommit(() => this.publish(events));
    });
  }

  record<T extends EventType>(agentId: string, type: T, data: EventData<T>): void {
    const count = (this.counts.get(agentId) ?? this.countStored(agentId)) + 1;
    this.unwritten.add({
      seq: 0,
      agent_id: agentId,
      type,
      data,
      created_at: nowIso(),
    } as StoredEvent);
    this.setCount(agentId, count);
    if (count > this.retention) {
      this.overRetention.add(agentId);
      this.transactions.beforeCommit("prune events", this.pruneStep);
    }
  }

  /**
   * Write the events recorded so far in this transaction now, not at its end: for a statement
   * that must find them in the table (an agent's removal deletes its events with it).
   */
  writeRecorded(): void {
    this.unwritten.flush();
  }

  /** A reader of stored-then-live events; see EventSubscription. */
  open(options: SubscriptionOptions): EventSubscription {
    return new EventSubscription(this.db, this, options);
  }

  latestSeq(): number {
    return latestEventSeq(this.db);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Like subscribe, for the daemon's own use of events; returns how to stop. */
  observe(observer: EventObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Event streams open now (observers are not counted). */
  get subscriberCount(): number {
    return this.listeners.size;
  }

  forget(agentId: string): void {
    this.counts.delete(agentId);
    for (const observer of this.observers) observer.forget?.(agentId);
  }

  private publish(events: StoredEvent[]): void {
    for (const event of events) {
      notify(this.listeners, (listener) => listener(event));
      notify(this.observers, (observer) => observer.event(event));
    }
  }

  private pruneAll(): void {
    for (const agentId of this.overRetention) this.prune(agentId);
    this.overRetention.clear();
  }

  /** The oldest of the agent's events go, down to the retention. */
  private prune(agentId: string): void {
    const count = this.counts.get(agentId) ?? this.countStored(agentId);
    if (count <= this.retention) return;
    pruneOldestEvents(this.db, agentId, count - this.retention);
    this.setCount(agentId, this.retention);
  }

  private countStored(agentId: string): number {
    this.writeRecorded();
    return countEvents(this.db, agentId);
  }

  /** A rollback forgets every count (each is counted again when next needed): they are rare. */
  private setCount(agentId: string, count: number): void {
    this.counts.set(agentId, count);
    this.transactions.onRollback(this.forgetCounts, "event counts");
  }
}

/** Tell each one; one that fails does not keep the others from hearing it. */
function notify<T>(listeners: Iterable<T>, tell: (listener: T) => void): void {
  for (const listener of listeners) {
    try {
      tell(listener);
    } catch (error) {
      log.error(`event listener failed: ${String(error)}`);
    }
  }
}
