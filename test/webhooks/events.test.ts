import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHmac } from "node:crypto";
import { listDeliveries } from "../../src/store/webhooks.ts";
import {
  type ReceivedWebhook,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../fixtures/webhook-receiver.ts";
import { ask, spawnFake } from "../helpers/agents.ts";
import { daemonDatabase, startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

const PAYLOAD_FIELDS = [
  "agent_id",
  "cost_cents",
  "cost_micro_usd",
  "delivery_id",
  "error",
  "event",
  "summary",
  "timestamp",
  "turn_id",
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let daemon: TestDaemon;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = startWebhookReceiver();
  daemon = await startDaemon();
});

afterAll(async () => {
  await stopAllDaemons();
  await receiver.stop();
});

/** Wait for the one webhook of this event for this agent. */
function webhook(agentId: string, event: string): Promise<ReceivedWebhook> {
  return waitFor(`a "${event}" webhook for ${agentId}`, () => receiver.forAgent(agentId, event)[0]);
}

describe("webhook events from a real agent to a real receiver", () => {
  test("idle after a completed turn, with its turn, summary and cost", async () => {
    const agent = await spawnFake(daemon, { webhook: receiver.url });
    const turn = await ask(daemon, agent.id, "hello there");
    expect(turn.status).toBe("completed");
    const { body } = await webhook(agent.id, "idle");
    expect(Object.keys(body).sort()).toEqual(PAYLOAD_FIELDS);
    expect(body).toMatchObject({
      event: "idle",
      agent_id: agent.id,
      turn_id: turn.turn_id,
      summary: "echo: hello there",
      cost_micro_usd: 15000,
      cost_cents: 1.5,
      error: null,
    });
    expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp);
    expect(body.delivery_id).toMatch(UUID);
  });

  test("error after a failed turn, with the agent's error text", async () => {
    const agent = await spawnFake(daemon, { webhook: receiver.url });
    const turn = await ask(daemon, agent.id, "please FAIL");
    expect(turn.status).toBe("error");
    const { body } = await webhook(agent.id, "error");
    expect(Object.keys(body).sort()).toEqual(PAYLOAD_FIELDS);
    expect(body).toMatchObject({
      event: "error",
      agent_id: agent.id,
      turn_id: turn.turn_id,
      error: "Mock failure",
      cost_micro_usd: 15000,
      cost_cents: 1.5,
    });
  });

  test('no error webhook for a turn the user cancelled ("Cancelled by user")', async () => {
    const agent = await spawnFake(daemon, { webhook: receiver.url });
    const cancelled = await ask(daemon, agent.id, "CANCEL this");
    expect(cancelled).toMatchObject({ status: "cancelled", error: "Cancelled by user" });
    const later = await ask(daemon, agent.id, "carry on");
    await waitFor("the later turn's idle webhook", () =>
      receiver.forAgent(agent.id, "idle").find((hook) => hook.body.turn_id === later.turn_id),
    );
    // Webhooks are enqueued as events happen, so the table now holds every one both turns made.
    const db = daemonDatabase(daemon);
    try {
      expect(listDeliveries(db, agent.id).map((delivery) => delivery.event)).toEqual(["idle"]);
    } finally {
      db.close();
    }
    expect(receiver.forAgent(agent.id, "error")).toEqual([]);
  });

  test("stopped after POST /agents/:id/stop", async () => {
    const agent = await spawnFake(daemon, { webhook: receiver.url });
    expect((await daemon.api(`/agents/${agent.id}/stop`, { method: "POST" })).status).toBe(200);
    const { body } = await webhook(agent.id, "stopped");
    expect(body).toMatchObject({
      event: "stopped",
      agent_id: agent.id,
      turn_id: null,
      error: null,
    });
  });

  test("completed after the agent exits 0 on its own", async () => {
    const agent = await spawnFake(daemon, { webhook: receiver.url, prompt: "EXIT0 now" });
    const { body } = await webhook(agent.id, "completed");
    expect(body).toMatchObject({
      event: "completed",
      agent_id: agent.id,
      error: null,
      summary: "echo: EXIT0 now",
      cost_micro_usd: 15000,
    });
    // Deliveries run side by side, so the turn's idle may arrive before or after this one.
    expect((await webhook(agent.id, "idle")).body.summary).toBe("echo: EXIT0 now");
  });

  test("failed after the agent crashes, with its exit code in the error", async () => {
    const agent = await spawnFake(daemon, { webhook: receiver.url, prompt: "CRASH now" });
    const { body } = await webhook(agent.id, "failed");
    expect(body).toMatchObject({ event: "failed", agent_id: agent.id, turn_id: null });
    expect(body.error).toContain("code 3");
  });

  test("each webhook has its own delivery_id", async () => {
    const agent = await spawnFake(daemon, { webhook: receiver.url });
    await ask(daemon, agent.id, "one");
    await ask(daemon, agent.id, "two FAIL");
    await ask(daemon, agent.id, "three");
    await daemon.api(`/agents/${agent.id}/stop`, { method: "POST" });
    await webhook(agent.id, "stopped");
    const hooks = await waitFor("all four webhooks", () => {
      const all = receiver.forAgent(agent.id);
      return all.length === 4 && all;
    });
    const ids = hooks.map((hook) => hook.body.delivery_id);
    expect(new Set(ids).size).toBe(4);
    expect(hooks.map((hook) => hook.body.event).sort()).toEqual([
      "error",
      "idle",
      "idle",
      "stopped",
    ]);
  });
});

describe("webhook signature", () => {
  test("without AGENTD_WEBHOOK_SECRET, no X-Agentd-Signature header", async () => {
    const agent = await spawnFake(daemon, { webhook: receiver.url, prompt: "unsigned" });
    expect((await webhook(agent.id, "idle")).signature).toBeNull();
  });

  test("with AGENTD_WEBHOOK_SECRET, the header is sha256=HMAC-SHA256(secret, raw body)", async () => {
    const secret = "s3cret-for-tests";
    const signed = await startDaemon({ env: { AGENTD_WEBHOOK_SECRET: secret } });
    const agent = await spawnFake(signed, { webhook: receiver.url, prompt: "sign this" });
    const hook = await webhook(agent.id, "idle");
    const expected = createHmac("sha256", secret).update(hook.raw).digest("hex");
    expect(hook.signature).toBe(`sha256=${expected}`);
    await signed.stop();
  });
});
