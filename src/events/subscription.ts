import type { Database } from "bun:sqlite";
import type { StoredEvent } from "../api/events.ts";
import { eventsAfter } from "../store/events.ts";
import type { EventBus } from "./bus.ts";

const REPLAY_PAGE = 500;

export interface SubscriptionOptions {
  /** Only this agent's events; all agents' when undefined. */
  agentId?: string | undefined;
  /** Deliver events with seq greater than this. */
  after: number;
  /** False: end once the stored events are delivered, for readers that want no live ones. */
  follow?: boolean;
  /** Live events held for a subscriber that is not reading; past this it is cut off. */
  maxBuffered: number;
  /** Called once when the subscriber is cut off for falling too far behind. */
  onOverflow?: () => void;
}

/**
 * A reader's position in the event stream: stored events after `after` first (replay), then
 * live ones, with one cursor (the last seq delivered) so the seam has no gap and no duplicate.
 * Live events are buffered up to a bound; a subscriber that falls behind further while live is
 * cut off (it can resume from its last seq), and never slows down the agents.
 */
export class EventSubscription {
  private cursor: number;
  private replaying = true;
  private buffer: StoredEvent[] = [];
  private wake: (() => void) | null = null;
  private state: "open" | "overflowed" | "closed" = "open";
  private readonly unsubscribe: () => void;

  constructor(
    private readonly db: Database,
    bus: EventBus,
    private readonly options: SubscriptionOptions,
  ) {
    this.cursor = options.after;
    // Subscribe before the first replay query: nothing recorded in between can be missed.
    this.unsubscribe = bus.subscribe((event) => this.offer(event));
  }

  get overflowed(): boolean {
    return this.state === "overflowed";
  }

  /** The next events in seq order; waits for live ones. [] when closed or overflowed. */
  async next(): Promise<StoredEvent[]> {
    for (;;) {
      if (this.state !== "open") return [];
      if (this.replaying) {
        const page = eventsAfter(this.db, {
          agentId: this.options.agentId,
          after: this.cursor,
          limit: REPLAY_PAGE,
        });
        if (page.length > 0) return this.deliver(page);
        this.replaying = false;
        if (this.options.follow === false) {
          this.close();
          return [];
        }
      }
      const fresh = this.buffer.filter((event) => event.seq > this.cursor);
      this.buffer = [];
      if (fresh.length > 0) return this.deliver(fresh);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  close(): void {
    if (this.state === "open") this.state = "closed";
    this.unsubscribe();
    this.buffer = [];
    this.wakeUp();
  }

  private offer(event: StoredEvent): void {
    if (this.state !== "open") return;
    if (this.options.agentId !== undefined && event.agent_id !== this.options.agentId) return;
    this.buffer.push(event);
    if (this.buffer.length > this.options.maxBuffered) {
      if (this.replaying) {
        // Still reading from the database, which holds these too: drop, do not disconnect.
        this.buffer = [];
      } else {
        this.state = "overflowed";
        this.unsubscribe();
        this.buffer = [];
        this.options.onOverflow?.();
      }
    }
    this.wakeUp();
  }

  private deliver(events: StoredEvent[]): StoredEvent[] {
    this.cursor = (events.at(-1) as StoredEvent).seq;
    return events;
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
