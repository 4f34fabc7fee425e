import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import parsePrometheusTextFormat, { type MetricFamily } from "parse-prometheus-text-format";
import type { Histogram } from "prom-client";
import { startWebhookReceiver, type WebhookReceiver } from "../fixtures/webhook-receiver.ts";
import { ask, getAgent, spawnFake } from "../helpers/agents.ts";
import { startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";
import { inProcessAgentd } from "../helpers/in-process.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

let receiver: WebhookReceiver | undefined;

afterAll(async () => {
  await stopAllDaemons();
  await receiver?.stop();
});

/** Scrape `/metrics` and parse it with a Prometheus text-format parser. */
async function scrape(url: string, token?: string): Promise<MetricFamily[]> {
  const response = await fetch(`${url}/metrics`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  return parsePrometheusTextFormat(await response.text());
}

/** The value of the one sample of `name` whose labels include `labels`; undefined if none. */
function value(
  families: MetricFamily[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const family = families.find((f) => f.name === name);
  const matching = (family?.metrics ?? []).filter((sample) =>
    Object.entries(labels).every(([key, wanted]) => sample.labels?.[key] === wanted),
  );
  if (matching.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} is ambiguous`);
  const sample = matching[0];
  if (sample === undefined) return undefined;
  return Number(sample.value ?? sample.count);
}

describe("GET /metrics", () => {
  let daemon: TestDaemon;

  test("after known activity, agents, turns, tokens, cost, events, webhooks, streams, HTTP and the process add up", async () => {
    receiver = startWebhookReceiver();
    daemon = await startDaemon();
    const agent = await spawnFake(daemon, { model: "fake-model", webhook: receiver.url });
    await ask(daemon, agent.id, "one");
    await ask(daemon, agent.id, "two");
    await ask(daemon, agent.id, "FAIL");
    const stream = await fetch(`${daemon.url}/events`);
    const missing = await daemon.api(`/agents/no-such-agent`);
    expect(missing.status).toBe(404);
    const seen = await getAgent(daemon, agent.id);
    const labels = { agent: agent.id, model: "fake-model", protocol: "omni" };
    const deliveries = receiver;

    const metrics = await waitFor("every webhook to be delivered", async () => {
      const families = await scrape(daemon.url);
      const delivered = value(families, "agentd_webhook_deliveries_total", {
        outcome: "delivered",
      });
      return delivered === deliveries.forAgent(agent.id).length &&
        value(families, "agentd_webhook_queue_depth") === 0
        ? families
        : undefined;
    });
    expect(deliveries.forAgent(agent.id).length).toBe(3);
    expect(value(metrics, "agentd_agents", { status: "idle", mode: "run" })).toBe(1);
    expect(value(metrics, "agentd_agents", { status: "failed", mode: "persistent" })).toBe(0);
    expect(value(metrics, "agentd_turns_total", { outcome: "completed" })).toBe(2);
    expect(value(metrics, "agentd_turns_total", { outcome: "error" })).toBe(1);
    expect(value(metrics, "agentd_turns_total", { outcome: "cancelled" })).toBe(0);
    expect(value(metrics, "agentd_tokens_total", { ...labels, kind: "output" })).toBe(
      seen.output_tokens,
    );
    expect(value(metrics, "agentd_tokens_total", { ...labels, kind: "input" })).toBe(
      seen.input_tokens,
    );
    expect(value(metrics, "agentd_cost_micro_usd_total", labels)).toBe(seen.cost_micro_usd ?? -1);
    expect(seen.cost_micro_usd).toBe(3 * 15_000);
    expect(value(metrics, "agentd_events_total", { type: "usage" })).toBe(3);
    expect(value(metrics, "agentd_events_total", { type: "turn.queued" })).toBe(3);
    expect(value(metrics, "agentd_ingest_lag_seconds")).toBeGreaterThan(0);
    expect(value(metrics, "agentd_sse_subscribers")).toBe(1);
    const sends = { method: "POST", route: "/agents/:id/send" };
    expect(value(metrics, "agentd_http_requests_total", { ...sends, status: "200" })).toBe(3);
    expect(metrics.find((f) => f.name === "agentd_http_request_duration_seconds")?.type).toBe(
      "HISTOGRAM",
    );
    expect(
      value(metrics, "agentd_http_requests_total", {
        method: "GET",
        route: "/agents/:id",
        status: "404",
      }),
    ).toBe(1);
    expect(value(metrics, "process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
    expect(value(metrics, "process_open_fds")).toBeGreaterThan(3);
    expect(value(metrics, "agentd_info")).toBe(1);
    await stream.body?.cancel();
  });

  test("an unknown path is counted under one route label, whatever the path", async () => {
    await daemon.api("/no/such/path/1");
    await daemon.api("/no/such/path/2");
    const unmatched = { method: "GET", route: "unmatched", status: "404" };
    // A request is counted just after it is answered.
    await waitFor("both requests to be counted", async () => {
      const metrics = await scrape(daemon.url);
      return value(metrics, "agentd_http_requests_total", unmatched) === 2;
    });
    const routes = (await scrape(daemon.url))
      .find((f) => f.name === "agentd_http_requests_total")
      ?.metrics.map((sample) => sample.labels?.route);
    expect(routes?.filter((route) => route?.startsWith("/no"))).toEqual([]);
  });

  test("a removed agent's series go with it", async () => {
    const agent = await spawnFake(daemon, { model: "fake-model" });
    await ask(daemon, agent.id, "hello");
    const labels = { agent: agent.id, model: "fake-model", protocol: "omni" };
    expect(value(await scrape(daemon.url), "agentd_cost_micro_usd_total", labels)).toBe(15_000);
    expect((await daemon.api(`/agents/${agent.id}`, { method: "DELETE" })).status).toBe(200);
    const after = await scrape(daemon.url);
    expect(value(after, "agentd_cost_micro_usd_total", labels)).toBeUndefined();
    expect(value(after, "agentd_tokens_total", { ...labels, kind: "output" })).toBeUndefined();
  });

  test("each request is timed in a histogram by method and route", async () => {
    // The text parser drops the labels of histogram samples, so prom-client's own values are read.
    const world = inProcessAgentd();
    await world.request("GET", "/agents");
    await world.request("GET", "/agents");
    await world.request("GET", "/agents/nobody");
    const count = async (route: string) => {
      const metric = world.metrics.registry.getSingleMetric("agentd_http_request_duration_seconds");
      const histogram = await (metric as Histogram | undefined)?.get();
      return histogram?.values.find(
        (sample) =>
          sample.metricName === "agentd_http_request_duration_seconds_count" &&
          sample.labels.route === route &&
          sample.labels.method === "GET",
      )?.value;
    };
    // Requests are counted once answered, just after `request` returns.
    await waitFor(
      "the third request to be counted",
      async () => (await count("/agents/:id")) === 1,
    );
    expect(await count("/agents/")).toBe(2);
  });

  test("automatic restarts are counted by agent", async () => {
    const world = inProcessAgentd();
    const agent = await world.service.create({
      protocol: "scripted",
      command: [process.execPath],
      cwd: world.home,
    });
    world.lifecycle.restarted(agent.id, 1);
    world.lifecycle.restarted(agent.id, 2);
    const metrics = parsePrometheusTextFormat(await world.metrics.text());
    expect(value(metrics, "agentd_agent_restarts_total", { agent: agent.id })).toBe(2);
  });
});

describe("who may read /metrics", () => {
  test("with --metrics-token, the metrics token reads /metrics and nothing else; the main token reads it too", async () => {
    const daemon = await startDaemon({
      args: ["--token", "main-secret", "--metrics-token", "scrape-secret"],
    });
    const get = (path: string, token?: string) =>
      fetch(`${daemon.url}${path}`, {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });
    expect((await get("/metrics")).status).toBe(401);
    expect((await get("/metrics", "wrong")).status).toBe(401);
    expect((await get("/metrics", "scrape-secret")).status).toBe(200);
    expect((await get("/metrics", "main-secret")).status).toBe(200);
    expect((await get("/agents", "scrape-secret")).status).toBe(401);
    expect((await get("/agents", "main-secret")).status).toBe(200);
  });

  test("without a token, /metrics is open like every route; a metrics token alone closes /metrics only", async () => {
    const open = await startDaemon();
    expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
    const closed = await startDaemon({ args: ["--metrics-token", "scrape-secret"] });
    expect((await fetch(`${closed.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${closed.url}/agents`)).status).toBe(200);
    await scrape(closed.url, "scrape-secret");
  });
});
