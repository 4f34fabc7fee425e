import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type DeliveryRecord, listDeliveries } from "../../src/store/webhooks.ts";
import {
  closedPort,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../fixtures/webhook-receiver.ts";
import { ask, getAgent, spawnFake } from "../helpers/agents.ts";
import { daemonDatabase, startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

const receivers: WebhookReceiver[] = [];
afterAll(async () => {
  await stopAllDaemons();
  await Promise.all(receivers.map((receiver) => receiver.stop()));
});

function receiver(...args: Parameters<typeof startWebhookReceiver>): WebhookReceiver {
  const started = startWebhookReceiver(...args);
  receivers.push(started);
  return started;
}

/** The agent's outbox rows, read from the daemon's database file. */
function deliveries(daemon: TestDaemon, agentId: string): DeliveryRecord[] {
  const db = daemonDatabase(daemon);
  try {
    return listDeliveries(db, agentId);
  } finally {
    db.close();
  }
}

const FAST_RETRIES = { AGENTD_WEBHOOK_RETRY_MS: "50" };

describe("webhook delivery", () => {
  test("a receiver that answers 500 twice, then 200, gets the same delivery three times and it ends delivered", async () => {
    const flaky = receiver({ reply: (index) => (index < 2 ? 500 : 200) });
    const daemon = await startDaemon({ env: FAST_RETRIES });
    const agent = await spawnFake(daemon, { webhook: flaky.url, prompt: "retry me" });
    const delivery = await waitFor("the delivery to be marked delivered", () => {
      const row = deliveries(daemon, agent.id)[0];
      return row?.status === "delivered" && row;
    });
    expect(delivery).toMatchObject({ event: "idle", attempts: 3, last_error: null });
    expect(flaky.received.map((hook) => hook.body.delivery_id)).toEqual([
      delivery.id,
      delivery.id,
      delivery.id,
    ]);
    expect(new Set(flaky.received.map((hook) => hook.raw)).size).toBe(1);
    // Backoff: 50 ms before the second attempt, 3x that before the third (less timer slack).
    const [first, second, third] = flaky.received.map((hook) => hook.at) as [
      number,
      number,
      number,
    ];
    expect(second - first).toBeGreaterThanOrEqual(45);
    expect(third - second).toBeGreaterThanOrEqual(140);
    await daemon.stop();
  });

  test("a receiver that never answers does not block the agent: turns, status and cost keep updating", async () => {
    const stuck = receiver({ reply: () => "hang" });
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon, { webhook: stuck.url, prompt: "first" });
    await waitFor("the first webhook to be stuck at the receiver", () => stuck.received.length > 0);
    expect((await ask(daemon, agent.id, "second")).status).toBe("completed");
    expect((await ask(daemon, agent.id, "third")).status).toBe("completed");
    const after = await getAgent(daemon, agent.id);
    expect(after).toMatchObject({ status: "idle", turns: 3, cost_micro_usd: 45000 });
    expect(after.summary).toBe("echo: third");
    expect(deliveries(daemon, agent.id).map((row) => row.status)).toEqual([
      "pending",
      "pending",
      "pending",
    ]);
    await daemon.stop("SIGKILL");
  });

  test("a receiver that hangs: each attempt times out (AGENTD_WEBHOOK_TIMEOUT_MS) and is retried, while the agent and the API go on", async () => {
    const stuck = receiver({ reply: () => "hang" });
    const daemon = await startDaemon({
      env: { ...FAST_RETRIES, AGENTD_WEBHOOK_TIMEOUT_MS: "200" },
    });
    const agent = await spawnFake(daemon, { webhook: stuck.url, prompt: "first" });
    const timedOut = await waitFor("an attempt to time out", () => {
      const row = deliveries(daemon, agent.id)[0];
      return row !== undefined && row.attempts >= 2 && row;
    });
    expect(timedOut.status).toBe("pending");
    expect(timedOut.last_error).toMatch(/time/i);
    expect(stuck.received.length).toBeGreaterThanOrEqual(2);
    expect((await ask(daemon, agent.id, "second")).status).toBe("completed");
    expect((await daemon.api("/health")).status).toBe(200);
    await daemon.stop("SIGKILL");
  });

  test("a receiver that never answers does not hold up another agent's webhooks", async () => {
    const stuck = receiver({ reply: () => "hang" });
    const healthy = receiver();
    const daemon = await startDaemon();
    await spawnFake(daemon, { webhook: stuck.url, prompt: "stuck" });
    await waitFor("a webhook to be stuck at the receiver", () => stuck.received.length > 0);
    const other = await spawnFake(daemon, { webhook: healthy.url, prompt: "fine" });
    // Well inside the 10 s attempt timeout the stuck delivery is waiting out.
    await waitFor("the other agent's webhook", () => healthy.forAgent(other.id, "idle")[0], 5_000);
    await daemon.stop("SIGKILL");
  });

  test("a delivery refused while the receiver is down arrives after a daemon restart", async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/hook`;
    const env = { AGENTD_WEBHOOK_RETRY_MS: "200" };
    const first = await startDaemon({ env });
    const agent = await spawnFake(first, { webhook: url, prompt: "before the restart" });
    const refused = await waitFor("a refused delivery attempt", () => {
      const row = deliveries(first, agent.id)[0];
      return row !== undefined && row.attempts > 0 && row;
    });
    expect(refused).toMatchObject({ status: "pending", event: "idle" });
    expect(await first.stop("SIGKILL")).not.toBe(0);

    const back = receiver({ port });
    const second = await startDaemon({ home: first.home, env });
    const hook = await waitFor("the webhook after the restart", () => back.forAgent(agent.id)[0]);
    expect(hook.body).toMatchObject({ event: "idle", delivery_id: refused.id });
    await waitFor("the delivery to be marked delivered", () => {
      return deliveries(second, agent.id)[0]?.status === "delivered";
    });
    await second.stop();
  });

  test("a delivery in flight when the daemon is killed arrives after a daemon restart", async () => {
    // The first request hangs until the daemon making it is gone; the next one is accepted.
    const slow = receiver({ reply: (index) => (index === 0 ? "hang" : 200) });
    const first = await startDaemon();
    const agent = await spawnFake(first, { webhook: slow.url, prompt: "in flight" });
    await waitFor("the delivery to be in flight", () => slow.received.length === 1);
    expect(await first.stop("SIGKILL")).not.toBe(0);

    const second = await startDaemon({ home: first.home });
    await waitFor("the webhook to arrive again", () => slow.received.length === 2);
    const [lost, redelivered] = slow.received;
    expect(redelivered?.body).toEqual(lost?.body as NonNullable<typeof lost>["body"]);
    expect(redelivered?.body).toMatchObject({ event: "idle", agent_id: agent.id });
    await second.stop();
  });
});
