import type { StoredEvent } from "../api/events.ts";
import { type Api, ApiError, asApiError } from "./api.ts";
import { SseParser } from "./sse.ts";

/**
 * One of the daemon's event streams (`/events`, `/agents/:id/events`), read with fetch so that
 * the token goes in a header, and kept open: after a dropped connection it reconnects with
 * `Last-Event-ID`, so the daemon replays what was missed, in order, without repeating anything.
 */

export type StreamState =
  | { kind: "connecting" }
  | { kind: "live"; reconnects: number }
  | { kind: "reconnecting"; reconnects: number; error: ApiError | null }
  | { kind: "stopped"; error: ApiError };

export interface StreamHandlers {
  /** The stream is (again) connected; events missed while it was down are replayed next. */
  onOpen(): void;
  onEvents(events: StoredEvent[]): void;
  onState(state: StreamState): void;
}

/** The daemon asks for 1 s (`retry:`); repeated failures wait longer, up to this. */
const MAX_BACKOFF_MS = 15_000;
const DEFAULT_RETRY_MS = 1_000;

export class EventStream {
  private readonly abort = new AbortController();
  private lastEventId: string | null = null;
  private reconnects = 0;
  private retryMs = DEFAULT_RETRY_MS;

  constructor(
    private readonly api: Api,
    private readonly path: string,
    private readonly handlers: StreamHandlers,
  ) {}

  start(): void {
    void this.run();
  }

  close(): void {
    this.abort.abort();
  }

  private get closed(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    this.handlers.onState({ kind: "connecting" });
    let failures = 0;
    while (!this.closed) {
      let error: ApiError | null = null;
      try {
        const delivered = await this.readOnce();
        if (delivered) failures = 0;
      } catch (caught) {
        if (this.closed) return;
        error = asApiError(caught);
        // Without the right token, or for an agent that is gone, trying again cannot help.
        if (error.status === 401 || error.status === 404) {
          this.handlers.onState({ kind: "stopped", error });
          return;
        }
      }
      if (this.closed) return;
      failures++;
      this.reconnects++;
      this.handlers.onState({ kind: "reconnecting", reconnects: this.reconnects, error });
      await this.sleep(Math.min(this.retryMs * 2 ** (failures - 1), MAX_BACKOFF_MS));
    }
  }

  /** One connection, read until it ends; true when it got as far as being connected. */
  private async readOnce(): Promise<boolean> {
    const headers: Record<string, string> = { accept: "text/event-stream" };
    if (this.lastEventId !== null) headers["last-event-id"] = this.lastEventId;
    const response = await this.api.open(this.path, headers, this.abort.signal);
    if (!response.body) throw new ApiError(0, "no_body", "the event stream came without a body");
    this.handlers.onOpen();
    this.handlers.onState({ kind: "live", reconnects: this.reconnects });
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return true;
        const events = parser.push(decoder.decode(value, { stream: true }));
        if (parser.retryMs !== null) this.retryMs = parser.retryMs;
        const stored = events.map((event) => JSON.parse(event.data) as StoredEvent);
        const last = events.at(-1);
        if (last?.id) this.lastEventId = last.id;
        if (stored.length > 0) this.handlers.onEvents(stored);
      }
    } catch (error) {
      // The connection broke mid-stream: what was read counts; reconnect from there.
      if (this.closed) throw error;
      return true;
    } finally {
      reader.releaseLock();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.abort.signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}
