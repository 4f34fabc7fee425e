import type { Database } from "bun:sqlite";
import { readdirSync } from "node:fs";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { AGENT_MODES, AGENT_STATUSES } from "../agents/status.ts";
import type { StoredEvent } from "../api/events.ts";
import type { EventBus } from "../events/bus.ts";
import { countAgentsByStatusAndMode, getAgent } from "../store/agents.ts";
import { countPendingDeliveries } from "../store/webhooks.ts";
import type { DeliveryOutcome } from "../webhooks/outbox.ts";

export interface MetricsDeps {
  db: Database;
  bus: EventBus;
  version: string;
}

/** The labels of the per-agent series: agent, model and protocol, and nothing finer. */
type UsageLabels = { agent: string; model: string; protocol: string };

const TURN_OUTCOMES: Partial<Record<StoredEvent["type"], string>> = {
  "turn.completed": "completed",
  "turn.failed": "error",
  "turn.cancelled": "cancelled",
};

/** Usage heard since the last scrape, for one series of agent, model and protocol. */
interface UsageSinceScrape {
  labels: UsageLabels;
  input: number;
  output: number;
  cost: number;
  knownCostCalls: number;
  unknownCostCalls: number;
}

/**
 * agentd's Prometheus metrics. Counters follow the event stream: they are counted from events
 * as they are published, after their commit, so what is counted is what was stored. Events
 * and usage, the counts that grow with every event an agent writes, are added up here (a map
 * lookup per event) and handed to their counters when scraped, as prom-client hashes the
 * labels of every increment; so are HTTP requests. Gauges (agents, queue depth, subscribers, process) are read when
 * scraped. Per-agent series go when their agent is removed.
 */
export class AgentdMetrics {
  readonly registry = new Registry();
  private readonly protocols = new Map<string, string>();
  private readonly seriesOf = new Map<string, UsageLabels[]>();
  private readonly eventsSinceScrape = new Map<string, number>();
  private readonly usageSinceScrape = new Map<string, UsageSinceScrape>();
  private readonly requestsSinceScrape = new Map<
    string,
    { labels: { method: string; route: string; status: string }; count: number }
  >();

  private readonly events: Counter<"type">;
  private readonly turns: Counter<"outcome">;
  private readonly tokens: Counter<"agent" | "model" | "protocol" | "kind">;
  private readonly cost: Counter<"agent" | "model" | "protocol">;
  private readonly unknownCost: Counter<"agent" | "model" | "protocol">;
  private readonly restarts: Counter<"agent">;
  private readonly ingestLag: Histogram;
  private readonly webhooks: Counter<"outcome">;
  private readonly httpRequests: Counter<"method" | "route" | "status">;
  private readonly httpDuration: Histogram<"method" | "route">;

  constructor(private readonly deps: MetricsDeps) {
    const registers = [this.registry];
    const { db, bus } = deps;
    new Gauge({
      name: "agentd_info",
      help: "Always 1; the version of this agentd",
      labelNames: ["version"],
      registers,
    }).set({ version: deps.version }, 1);
    new Gauge({
      name: "agentd_agents",
      help: "Agents by status and mode",
      labelNames: ["status", "mode"],
      registers,
      collect() {
        this.reset();
        for (const status of AGENT_STATUSES) {
          for (const mode of AGENT_MODES) this.set({ status, mode }, 0);
        }
        for (const row of countAgentsByStatusAndMode(db)) {
          this.set({ status: row.status, mode: row.mode }, row.n);
        }
      },
    });
    this.turns = new Counter({
      name: "agentd_turns_total",
      help: "Turns that ended, by outcome (completed, error, cancelled)",
      labelNames: ["outcome"],
      registers,
    });
    for (const outcome of Object.values(TURN_OUTCOMES)) this.turns.inc({ outcome }, 0);
    this.tokens = new Counter({
      name: "agentd_tokens_total",
      help: "Tokens used, by agent, model, protocol and kind (input or output)",
      labelNames: ["agent", "model", "protocol", "kind"],
      registers,
      collect: () => this.handOverUsage(),
    });
    this.cost = new Counter({
      name: "agentd_cost_micro_usd_total",
      help: "Known cost in micro-USD, by agent, model and protocol",
      labelNames: ["agent", "model", "protocol"],
      registers,
      collect: () => this.handOverUsage(),
    });
    this.unknownCost = new Counter({
      name: "agentd_unknown_cost_calls_total",
      help: "Model calls whose cost is unknown (no cost reported and no price for the model)",
      labelNames: ["agent", "model", "protocol"],
      registers,
      collect: () => this.handOverUsage(),
    });
    this.events = new Counter({
      name: "agentd_events_total",
      help: "Events stored, by type",
      labelNames: ["type"],
      registers,
      collect: () => this.handOverEvents(),
    });
    this.ingestLag = new Histogram({
      name: "agentd_ingest_lag_seconds",
      help: "From a batch of agent output reaching the recorder to its events being committed",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.restarts = new Counter({
      name: "agentd_agent_restarts_total",
      help: "Automatic restarts of agents' processes, by agent",
      labelNames: ["agent"],
      registers,
    });
    this.webhooks = new Counter({
      name: "agentd_webhook_deliveries_total",
      help: "Webhook delivery attempts by outcome: delivered, retrying (failed, tried again later), failed (given up)",
      labelNames: ["outcome"],
      registers,
    });
    new Gauge({
      name: "agentd_webhook_queue_depth",
      help: "Webhook deliveries waiting to be made or retried",
      registers,
      collect() {
        this.set(countPendingDeliveries(db));
      },
    });
    new Gauge({
      name: "agentd_sse_subscribers",
      help: "Open event streams (GET /events, GET /agents/:id/events)",
      registers,
      collect() {
        this.set(bus.subscriberCount);
      },
    });
    this.httpRequests = new Counter({
      name: "agentd_http_requests_total",
      help: "HTTP requests by method, route and status",
      labelNames: ["method", "route", "status"],
      registers,
      collect: () => this.handOverRequests(),
    });
    this.httpDuration = new Histogram({
      name: "agentd_http_request_duration_seconds",
      help: "Time to answer an HTTP request (to its first byte, for streams), by method and route",
      labelNames: ["method", "route"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    new Gauge({
      name: "process_resident_memory_bytes",
      help: "Resident memory size in bytes",
      registers,
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
    new Gauge({
      name: "process_open_fds",
      help: "Number of open file descriptors",
      registers,
      collect() {
        // The listing itself holds one descriptor open while it reads.
        this.set(readdirSync("/proc/self/fd").length - 1);
      },
    });
    bus.observe({ event: (event) => this.observe(event), forget: (id) => this.forget(id) });
  }

  /** The exposition, in Prometheus text format. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The recorder applied a batch of an agent's output in `seconds`. */
  batchApplied(seconds: number): void {
    this.ingestLag.observe(seconds);
  }

  webhookAttempt(outcome: DeliveryOutcome): void {
    this.webhooks.inc({ outcome });
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    const series = this.requestsSinceScrape.get(key);
    if (series) series.count++;
    else
      this.requestsSinceScrape.set(key, {
        labels: { method, route, status: String(status) },
        count: 1,
      });
    this.httpDuration.observe({ method, route }, seconds);
  }

  private observe(event: StoredEvent): void {
    this.eventsSinceScrape.set(event.type, (this.eventsSinceScrape.get(event.type) ?? 0) + 1);
    const outcome = TURN_OUTCOMES[event.type];
    if (outcome !== undefined) this.turns.inc({ outcome });
    else if (event.type === "usage") this.usage(event.agent_id, event.data);
    else if (event.type === "restart") this.restarts.inc({ agent: event.agent_id });
    else if (event.type === "status" && event.data.previous === null) {
      // A new agent: an id can come back (a persistent agent's name) with another protocol.
      this.protocols.delete(event.agent_id);
    }
  }

  private usage(agentId: string, data: Extract<StoredEvent, { type: "usage" }>["data"]): void {
    const model = data.model ?? "unknown";
    const key = `${agentId}\n${model}`;
    let series = this.usageSinceScrape.get(key);
    if (series === undefined) {
      const labels = { agent: agentId, model, protocol: this.protocolOf(agentId) };
      this.remember(labels);
      series = { labels, input: 0, output: 0, cost: 0, knownCostCalls: 0, unknownCostCalls: 0 };
      this.usageSinceScrape.set(key, series);
    }
    series.input += data.input_tokens;
    series.output += data.output_tokens;
    if (data.cost_micro_usd === null) {
      series.unknownCostCalls++;
    } else {
      series.knownCostCalls++;
      series.cost += data.cost_micro_usd;
    }
  }

  private handOverEvents(): void {
    for (const [type, count] of this.eventsSinceScrape) this.events.inc({ type }, count);
    this.eventsSinceScrape.clear();
  }

  private handOverRequests(): void {
    for (const { labels, count } of this.requestsSinceScrape.values()) {
      this.httpRequests.inc(labels, count);
    }
    this.requestsSinceScrape.clear();
  }

  private handOverUsage(): void {
    for (const series of this.usageSinceScrape.values()) {
      const { labels } = series;
      this.tokens.inc({ ...labels, kind: "input" }, series.input);
      this.tokens.inc({ ...labels, kind: "output" }, series.output);
      if (series.knownCostCalls > 0) this.cost.inc(labels, series.cost);
      if (series.unknownCostCalls > 0) this.unknownCost.inc(labels, series.unknownCostCalls);
    }
    this.usageSinceScrape.clear();
  }

  private protocolOf(agentId: string): string {
    let protocol = this.protocols.get(agentId);
    if (protocol === undefined) {
      protocol = getAgent(this.deps.db, agentId)?.protocol ?? "unknown";
      this.protocols.set(agentId, protocol);
    }
    return protocol;
  }

  private remember(labels: UsageLabels): void {
    const known = this.seriesOf.get(labels.agent) ?? [];
    if (known.some((l) => l.model === labels.model && l.protocol === labels.protocol)) return;
    known.push(labels);
    this.seriesOf.set(labels.agent, known);
  }

  /** The agent was removed: its series go, so that removed agents do not pile up. */
  private forget(agentId: string): void {
    for (const [key, series] of this.usageSinceScrape) {
      if (series.labels.agent === agentId) this.usageSinceScrape.delete(key);
    }
    for (const labels of this.seriesOf.get(agentId) ?? []) {
      for (const kind of ["input", "output"]) this.tokens.remove({ ...labels, kind });
      this.cost.remove(labels);
      this.unknownCost.remove(labels);
    }
    this.seriesOf.delete(agentId);
    this.protocols.delete(agentId);
    this.restarts.remove({ agent: agentId });
  }
}
