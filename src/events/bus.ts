import type { Database } from "bun:sqlite";
import type { EventData, EventType, StoredEvent } from "../api/events.ts";
import { log } from "../log.ts";
import { appendEvent, countEvents, latestEventSeq, pruneEvents } from "../store/events.ts";
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
 * transaction that stored it has committed. An agent's events beyond the retention are pruned
 * in the same transaction as the batch that pushed them past it: however fast an agent
 * writes, it never has more than the retention committed.
 */
export class EventBus {
  private readonly listeners = new Set<EventListener>();
  /** The daemon's own reactions to events; not event streams, so not counted as subscribers. */
  private readonly observers = new Set<EventObserver>();
  /** Events stored per agent, counted once, then kept up to date (an estimate after a rollback). */
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly transactions: Transactions,
    private readonly retention: number,
  ) {}

  record<T extends EventType>(agentId: string, type: T, data: EventData<T>): void {
    const before = this.counts.get(agentId) ?? countEvents(this.db, agentId);
    const event = appendEvent(this.db, agentId, type, data) as StoredEvent;
    this.transactions.afterCommit(() => this.publish(event));
    this.counts.set(agentId, before + 1);
    if (before + 1 > this.retention) {
      this.transactions.beforeCommit(`prune ${agentId}`, () => this.prune(agentId));
    }
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

  private publish(event: StoredEvent): void {
    notify(this.listeners, (listener) => listener(event));
    notify(this.observers, (observer) => observer.event(event));
  }

  private prune(agentId: string): void {
    const removed = pruneEvents(this.db, agentId, this.retention);
    this.counts.set(agentId, removed > 0 ? this.retention : countEvents(this.db, agentId));
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
