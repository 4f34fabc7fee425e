import type { Database } from "bun:sqlite";
import { createHmac, randomUUID } from "node:crypto";
import { errorMessage } from "../errors.ts";
import { log } from "../log.ts";
import {
  type DeliveryRecord,
  dueDeliveries,
  enqueueDelivery,
  markAttemptFailed,
  markDelivered,
  nextDeliveryDue,
} from "../store/webhooks.ts";

export const WEBHOOK_EVENTS = ["idle", "error", "stopped", "completed", "failed"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export interface WebhookPayload {
  event: WebhookEvent;
  agent_id: string;
  turn_id: string | null;
  summary: string | null;
  cost_micro_usd: number | null;
  cost_cents: number | null;
  error: string | null;
  timestamp: string;
  delivery_id: string;
}

export interface OutboxOptions {
  secret: string | null;
  retryBaseMs: number;
  maxAttempts?: number;
  timeoutMs?: number;
}

const BATCH = 20;
const MAX_RETRY_DELAY_MS = 3_600_000;

/**
 * Webhook deliveries go through a table: enqueueing is one INSERT (never blocks an agent's
 * reader), delivery happens here in the background with retries and backoff, and whatever is
 * still pending when the daemon stops is delivered after it starts again.
 */
export class WebhookOutbox {
  private timer: Timer | null = null;
  private running = false;
  private again = false;
  private stopped = true;
  private readonly inflight = new AbortController();
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly db: Database,
    private readonly options: OutboxOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.inflight.abort();
  }

  enqueue(url: string, payload: Omit<WebhookPayload, "delivery_id" | "timestamp">): string {
    const delivery_id = randomUUID();
    const body: WebhookPayload = { ...payload, timestamp: new Date().toISOString(), delivery_id };
    enqueueDelivery(this.db, {
      id: delivery_id,
      agent_id: payload.agent_id,
      url,
      event: payload.event,
      body: JSON.stringify(body),
    });
    this.kick();
    return delivery_id;
  }

  /** Run the delivery loop soon (coalesced: at most one loop at a time). */
  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.drain(), 0);
  }

  private async drain(): Promise<void> {
    this.timer = null;
    this.running = true;
    try {
      for (;;) {
        this.again = false;
        const due = dueDeliveries(this.db, Date.now(), BATCH);
        await Promise.all(due.map((delivery) => this.attempt(delivery)));
        if (this.stopped || (due.length < BATCH && !this.again)) break;
      }
    } catch (error) {
      log.error(`webhook outbox: ${errorMessage(error)}`);
    } finally {
      this.running = false;
    }
    this.scheduleNext();
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    const next = nextDeliveryDue(this.db);
    if (next === null) return;
    const delay = Math.max(0, Math.min(next - Date.now(), MAX_RETRY_DELAY_MS));
    this.timer = setTimeout(() => void this.drain(), delay);
  }

  private async attempt(delivery: DeliveryRecord): Promise<void> {
    let failure: string;
    try {
      const response = await fetch(delivery.url, {
        method: "POST",
        headers: this.headers(delivery.body),
        body: delivery.body,
        signal: AbortSignal.any([this.inflight.signal, AbortSignal.timeout(this.timeoutMs)]),
        redirect: "manual",
      });
      await response.body?.cancel().catch(() => {});
      if (response.status >= 200 && response.status < 300) {
        markDelivered(this.db, delivery.id);
        return;
      }
      failure = `HTTP ${response.status}`;
    } catch (error) {
      // Aborted by shutdown: not an attempt; it is delivered after the restart.
      if (this.stopped) return;
      failure = errorMessage(error);
    }
    const attempts = delivery.attempts + 1;
    const retryAt =
      attempts >= this.maxAttempts
        ? null
        : Date.now() + Math.min(this.options.retryBaseMs * 3 ** (attempts - 1), MAX_RETRY_DELAY_MS);
    markAttemptFailed(this.db, delivery.id, failure, retryAt);
    const what = `webhook ${delivery.event} for ${delivery.agent_id} to ${delivery.url}`;
    if (retryAt === null)
      log.warn(`${what} failed for good after ${attempts} attempts: ${failure}`);
    else log.info(`${what} failed (attempt ${attempts}): ${failure}; retrying`);
  }

  private headers(body: string): Record<string, string> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "agentd-webhook",
    };
    if (this.options.secret) {
      const digest = createHmac("sha256", this.options.secret).update(body).digest("hex");
      headers["x-agentd-signature"] = `sha256=${digest}`;
    }
    return headers;
  }
}
