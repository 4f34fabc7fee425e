import type { Database } from "bun:sqlite";
import { createHmac, randomUUID } from "node:crypto";
import { centsOf } from "../agents/cost.ts";
import { errorMessage } from "../errors.ts";
import { log } from "../log.ts";
import type { AgentRecord } from "../store/agents.ts";
import {
  type DeliveryRecord,
  dueDeliveries,
  enqueueDelivery,
  markAttemptFailed,
  markDelivered,
  pruneFinishedDeliveries,
} from "../store/webhooks.ts";

export const WEBHOOK_EVENTS = [
  "idle",
  "error",
  "stopped",
  "completed",
  "failed",
  "budget_warning",
  "budget_exhausted",
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export interface WebhookPayload {
  event: WebhookEvent;
  agent_id: string;
  turn_id: string | null;
  summary: string | null;
  cost_micro_usd: number | null;
  cost_cents: number | null;
  error: string | null;
  /** Budget events only: the budget the cost is measured against. */
  budget_micro_usd?: number | null;
  timestamp: string;
  delivery_id: string;
}

/** How one delivery attempt ended: delivered, failed to be tried again, or failed for good. */
export type DeliveryOutcome = "delivered" | "retrying" | "failed";

export interface OutboxOptions {
  secret: string | null;
  retryBaseMs: number;
  /** Told how each attempt ended (metrics). */
  onAttempt?: (outcome: DeliveryOutcome) => void;
  maxAttempts?: number;
  timeoutMs?: number;
}

/** Attempts under way at once; more due deliveries wait for one of them to end. */
const MAX_IN_FLIGHT = 20;
const KEEP_FINISHED_MS = 7 * 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;
const MAX_RETRY_DELAY_MS = 3_600_000;

/** Wait before the next attempt after `attempts` failed ones: base, then 3x longer each time. */
export function retryDelayMs(attempts: number, baseMs: number): number {
  return Math.min(baseMs * 3 ** (attempts - 1), MAX_RETRY_DELAY_MS);
}

/**
 * Webhook deliveries go through a table: enqueueing is one INSERT (never blocks an agent's
 * reader), delivery happens here in the background with retries and backoff, and whatever is
 * still pending when the daemon stops is delivered after it starts again. Attempts run side by
 * side, so a receiver that hangs holds up only its own deliveries.
 */
export class WebhookOutbox {
  private timer: Timer | null = null;
  private pruner: Timer | undefined;
  private stopped = true;
  /** Ids of deliveries being attempted: they stay pending (and due) in the table meanwhile. */
  private readonly inflight = new Set<string>();
  private readonly abort = new AbortController();
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
    this.forgetFinished();
    this.pruner = setInterval(() => this.forgetFinished(), PRUNE_EVERY_MS);
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.pruner);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort();
  }

  /** Tell the agent's webhook, if it has one, what just happened to it. */
  notify(
    agent: AgentRecord,
    event: WebhookEvent,
    turnId: string | null,
    error: string | null,
  ): void {
    if (!agent.webhook) return;
    this.enqueue(agent.webhook, {
      event,
      agent_id: agent.id,
      turn_id: turnId,
      summary: agent.summary,
      cost_micro_usd: agent.cost_micro_usd,
      cost_cents: centsOf(agent.cost_micro_usd),
      error,
      ...(event === "budget_warning" || event === "budget_exhausted"
        ? { budget_micro_usd: agent.budget_micro_usd }
        : {}),
    });
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

  /** Ended deliveries are kept a week for inspection; a daemon running for months stays small. */
  private forgetFinished(): void {
    try {
      const before = new Date(Date.now() - KEEP_FINISHED_MS).toISOString();
      pruneFinishedDeliveries(this.db, before);
    } catch (error) {
      log.warn(`webhook outbox: could not prune old deliveries: ${errorMessage(error)}`);
    }
  }

  /** Look at the table soon (coalesced: many kicks in one tick make one pass). */
  private kick(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.drain(), 0);
  }

  /**
   * Start an attempt for each due delivery not already under way, then sleep until the next
   * one is due. While attempts are under way no timer is needed: each one kicks when it ends.
   */
  private drain(): void {
    this.timer = null;
    if (this.stopped) return;
    try {
      const now = Date.now();
      // Every pending row in due order; in-flight ones are among them, so read past them.
      const pending = dueDeliveries(
        this.db,
        Number.MAX_SAFE_INTEGER,
        this.inflight.size + MAX_IN_FLIGHT,
      ).filter((delivery) => !this.inflight.has(delivery.id));
      for (const delivery of pending) {
        if (delivery.next_attempt_at > now) {
          this.wakeAt(delivery.next_attempt_at);
          return;
        }
        if (this.inflight.size >= MAX_IN_FLIGHT) return;
        this.launch(delivery);
      }
    } catch (error) {
      log.error(`webhook outbox: ${errorMessage(error)}`);
    }
  }

  private wakeAt(due: number): void {
    const delay = Math.max(0, Math.min(due - Date.now(), MAX_RETRY_DELAY_MS));
    this.timer = setTimeout(() => this.drain(), delay);
  }

  private launch(delivery: DeliveryRecord): void {
    this.inflight.add(delivery.id);
    this.attempt(delivery)
      .catch((error) => log.error(`webhook outbox: ${errorMessage(error)}`))
      .finally(() => {
        this.inflight.delete(delivery.id);
        this.kick();
      });
  }

  private async attempt(delivery: DeliveryRecord): Promise<void> {
    let failure: string;
    try {
      const response = await fetch(delivery.url, {
        method: "POST",
        headers: this.headers(delivery.body),
        body: delivery.body,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)]),
        redirect: "manual",
      });
      await response.body?.cancel().catch(() => {});
      // Stopped meanwhile: the database may be closed; it is delivered again after the restart.
      if (this.stopped) return;
      if (response.status >= 200 && response.status < 300) {
        markDelivered(this.db, delivery.id);
        this.options.onAttempt?.("delivered");
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
        : Date.now() + retryDelayMs(attempts, this.options.retryBaseMs);
    markAttemptFailed(this.db, delivery.id, failure, retryAt);
    this.options.onAttempt?.(retryAt === null ? "failed" : "retrying");
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
