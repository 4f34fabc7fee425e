import { describe, expect, test } from "bun:test";
import type { CreateAgentInput } from "../../src/api/schemas.ts";
import { AgentdError } from "../../src/errors.ts";
import { eventsAfter } from "../../src/store/events.ts";
import { listDeliveries } from "../../src/store/webhooks.ts";
import { scripted } from "../fixtures/scripted-protocol.ts";
import { type InProcessOptions, inProcessAgentd } from "../helpers/in-process.ts";
import { waitFor } from "../helpers/wait.ts";

/** The scripted protocol without the power to cancel a turn, as omni is. */
const uncancellable = {
  ...scripted,
  name: "uncancellable",
  capabilities: { ...scripted.capabilities, cancel: false },
};

async function oneAgent(input: Partial<CreateAgentInput> = {}, options: InProcessOptions = {}) {
  const world = inProcessAgentd({ protocols: [uncancellable], ...options });
  const agent = await world.service.create({
    protocol: "scripted",
    command: [process.execPath],
    cwd: world.home,
    webhook: "http://127.0.0.1:9/hook",
    ...input,
  });
  return { world, id: agent.id };
}

type World = Awaited<ReturnType<typeof oneAgent>>["world"];

/** The agent reports a model call of `microUsd`. */
function spend(world: World, id: string, microUsd: number) {
  world.agent.say(id, {
    type: "usage",
    input_tokens: 10,
    output_tokens: 5,
    cost_micro_usd: microUsd,
  });
}

function budgetEvents(world: World, id: string) {
  return eventsAfter(world.db, { agentId: id, after: 0, limit: 10_000 })
    .filter((event) => event.type === "budget")
    .map((event) => event.data);
}

/** The webhooks queued for the agent, in no particular order (they share a millisecond). */
function webhookEvents(world: World, id: string) {
  return listDeliveries(world.db, id)
    .map((delivery) => delivery.event)
    .sort();
}

async function refusal(promise: Promise<unknown>): Promise<AgentdError> {
  const error = await promise.then(
    () => null,
    (error: unknown) => error,
  );
  if (!(error instanceof AgentdError)) throw new Error(`expected a refusal, got ${error}`);
  return error;
}

describe("budgets", () => {
  test("at 80 % a warning event and webhook, once; at 100 % an exhausted event and webhook", async () => {
    const { world, id } = await oneAgent({ budget_usd: 1 });
    await world.service.send(id, { message: "work", turn_id: "t1" });
    spend(world, id, 500_000);
    expect(budgetEvents(world, id)).toEqual([]);
    spend(world, id, 300_000);
    spend(world, id, 100_000);
    expect(world.service.get(id).budget_state).toBe("warning");
    spend(world, id, 100_000);
    expect(budgetEvents(world, id)).toEqual([
      {
        state: "warning",
        previous: "ok",
        spent_micro_usd: 800_000,
        budget_micro_usd: 1_000_000,
        action: "finish",
      },
      {
        state: "exhausted",
        previous: "warning",
        spent_micro_usd: 1_000_000,
        budget_micro_usd: 1_000_000,
        action: "finish",
      },
    ]);
    expect(webhookEvents(world, id)).toEqual(["budget_exhausted", "budget_warning"]);
    const exhausted = listDeliveries(world.db, id).find((d) => d.event === "budget_exhausted");
    const body = JSON.parse(exhausted?.body ?? "{}");
    expect(body).toMatchObject({
      event: "budget_exhausted",
      agent_id: id,
      cost_micro_usd: 1_000_000,
      budget_micro_usd: 1_000_000,
    });
  });

  test("the running turn finishes; further prompts are refused with 409 budget_exhausted naming spent and allowed", async () => {
    const { world, id } = await oneAgent({ budget_usd: 0.5 });
    await world.service.send(id, { message: "work", turn_id: "t1" });
    spend(world, id, 600_000);
    expect(world.service.turn(id, "t1").status).toBe("queued");
    world.agent.say(id, { type: "turn.completed", turn_id: "t1", response: "done" });
    expect(world.service.turn(id, "t1").status).toBe("completed");
    expect(world.agent.written(id).join("")).not.toContain("cancel");

    const refused = await refusal(world.service.send(id, { message: "more" }));
    expect(refused.status).toBe(409);
    expect(refused.code).toBe("budget_exhausted");
    expect(refused.message).toContain("$0.6000");
    expect(refused.message).toContain("$0.5000");
    expect(refused.details).toEqual({ spent_micro_usd: 600_000, budget_micro_usd: 500_000 });
    const answer = await world.request<{ error: { code: string; message: string } }>(
      "POST",
      `/agents/${id}/send`,
      { message: "more" },
    );
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe("budget_exhausted");
    expect(world.service.turns(id, { limit: 10 }).map((turn) => turn.id)).toEqual(["t1"]);
  });

  test('with budget_action "cancel" the running turn is cancelled through the protocol', async () => {
    const { world, id } = await oneAgent({ budget_usd: 0.5, budget_action: "cancel" });
    await world.service.send(id, { message: "work", turn_id: "t1" });
    spend(world, id, 500_000);
    await waitFor("the cancel to reach the agent", () =>
      world.agent.written(id).some((line) => line.includes('"cancel"')),
    );
    expect(world.agent.written(id).at(-1)).toBe(`${JSON.stringify({ cancel: "t1" })}\n`);
    world.agent.say(id, { type: "turn.cancelled", turn_id: "t1", reason: "interrupted" });
    expect(world.service.turn(id, "t1").status).toBe("cancelled");
    expect(budgetEvents(world, id).at(-1)).toMatchObject({ state: "exhausted", action: "cancel" });
  });

  test("where the protocol cannot cancel, the turn finishes and a log event says why", async () => {
    const { world, id } = await oneAgent({
      protocol: "uncancellable",
      budget_usd: 0.5,
      budget_action: "cancel",
    });
    await world.service.send(id, { message: "work", turn_id: "t1" });
    spend(world, id, 500_000);
    await waitFor("a log event", () =>
      eventsAfter(world.db, { agentId: id, after: 0, limit: 1000 }).some(
        (event) => event.type === "log",
      ),
    );
    const logged = eventsAfter(world.db, { agentId: id, after: 0, limit: 1000 }).find(
      (event) => event.type === "log",
    );
    expect(logged?.data).toMatchObject({
      level: "warn",
      message: expect.stringContaining("uncancellable cannot cancel a turn"),
    });
    expect(world.agent.written(id).join("")).not.toContain("cancel");
    world.agent.say(id, { type: "turn.completed", turn_id: "t1", response: "done" });
    expect(world.service.turn(id, "t1").status).toBe("completed");
  });

  test("raising the budget with PATCH lifts it; lowering it below the spending exhausts it", async () => {
    const { world, id } = await oneAgent({ budget_usd: 0.5 });
    await world.service.send(id, { message: "work", turn_id: "t1" });
    spend(world, id, 500_000);
    world.agent.say(id, { type: "turn.completed", turn_id: "t1", response: "done" });
    await expect(world.service.send(id, { message: "more" })).rejects.toThrow(/budget/);

    const raised = await world.request<{ agent: { budget_usd: number; budget_state: string } }>(
      "PATCH",
      `/agents/${id}`,
      { budget_usd: 2 },
    );
    expect(raised.status).toBe(200);
    expect(raised.body.agent).toMatchObject({ budget_usd: 2, budget_state: "ok" });
    expect(budgetEvents(world, id).at(-1)).toMatchObject({ state: "ok", previous: "exhausted" });
    expect((await world.service.send(id, { message: "more" })).status).toBe("sent");

    await world.service.patch(id, { budget_usd: 0.1 });
    expect(world.service.get(id).budget_state).toBe("exhausted");
    expect(webhookEvents(world, id).filter((event) => event.startsWith("budget"))).toEqual([
      "budget_exhausted",
      "budget_exhausted",
    ]);
    await world.service.patch(id, { budget_usd: null });
    expect(world.service.get(id)).toMatchObject({ budget_micro_usd: null, budget_state: "ok" });
  });

  test("--default-budget-usd is the budget of agents created without one; a request's own wins, null is none", async () => {
    const flags = { defaultBudgetUsd: "0.25" };
    const plain = await oneAgent({}, { flags });
    expect(plain.world.service.get(plain.id).budget_micro_usd).toBe(250_000);
    const own = await oneAgent({ budget_usd: 3 }, { flags });
    expect(own.world.service.get(own.id).budget_micro_usd).toBe(3_000_000);
    const none = await oneAgent({ budget_usd: null }, { flags });
    expect(none.world.service.get(none.id).budget_micro_usd).toBeNull();
    const view = await plain.world.request<Record<string, unknown>>("GET", `/agents/${plain.id}`);
    expect(view.body).toMatchObject({
      budget_usd: 0.25,
      budget_action: "finish",
      budget_state: "ok",
    });
  });

  test("a budget of 0 refuses even the first prompt; the agent is still created", async () => {
    const world = inProcessAgentd();
    const created = await world.request<{ id: string }>("POST", "/agents", {
      protocol: "scripted",
      command: [process.execPath],
      cwd: world.home,
      budget_usd: 0,
      prompt: "hello",
    });
    expect(created.status).toBe(201);
    expect(world.service.turns(created.body.id, { limit: 10 })).toEqual([]);
  });

  test("a negative budget or an unknown action is refused", async () => {
    const world = inProcessAgentd();
    const base = { protocol: "scripted", command: [process.execPath], cwd: world.home };
    expect((await world.request("POST", "/agents", { ...base, budget_usd: -1 })).status).toBe(422);
    expect(
      (await world.request("POST", "/agents", { ...base, budget_action: "explode" })).status,
    ).toBe(422);
    expect(world.service.page({ limit: 1000 }).agents).toEqual([]);
  });
});
