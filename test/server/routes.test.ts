import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { EVENT_TYPES } from "../../src/api/events.ts";
import type { AgentView, ErrorBody, SendResult, TurnView } from "../../src/api/schemas.ts";
import { inProcessAgentd } from "../helpers/in-process.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

/** Routes answered in process by `app.handle`, with a MemoryRuntime standing in for agents. */

async function created(world: ReturnType<typeof inProcessAgentd>, body: object = {}) {
  const res = await world.request<AgentView>("POST", "/agents", {
    protocol: "scripted",
    command: [process.execPath],
    cwd: world.home,
    ...body,
  });
  expect(res.status).toBe(201);
  return res.body;
}

describe("routes, in process", () => {
  test("POST /agents answers 201 with the agent, idle and ready for prompts", async () => {
    const world = inProcessAgentd();
    const agent = await created(world, { name: "alpha", model: "m1" });
    expect(agent).toMatchObject({ name: "alpha", status: "idle", model: "m1", mode: "run" });
    expect(agent.id).toMatch(/^alpha-[a-z0-9]{8}$/);
    expect(agent).not.toHaveProperty("events_offset");
  });

  test("send with wait answers once the agent has answered", async () => {
    const world = inProcessAgentd();
    const agent = await created(world);
    const answer = world.request<SendResult>("POST", `/agents/${agent.id}/send`, {
      message: "ping",
      turn_id: "t1",
      wait: true,
    });
    await waitFor("the prompt to reach the agent", () =>
      world.agent.written(agent.id).length > 0 ? true : undefined,
    );
    world.agent.say(agent.id, { type: "turn.completed", turn_id: "t1", response: "pong" });
    expect((await answer).body).toEqual({ status: "completed", turn_id: "t1", response: "pong" });
  });

  test("cancel answers with the turn; for a protocol that cannot cancel it is a 409 saying so", async () => {
    const world = inProcessAgentd();
    const agent = await created(world);
    await world.request("POST", `/agents/${agent.id}/send`, { message: "x", turn_id: "t1" });
    const cancelled = await world.request<TurnView>("POST", `/agents/${agent.id}/turns/t1/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { id: "t1" } });

    const omni = await world.request<AgentView>("POST", "/agents", {
      command: [process.execPath],
      cwd: world.home,
    });
    await world.request("POST", `/agents/${omni.body.id}/send`, { message: "x", turn_id: "t1" });
    const refused = await world.request<ErrorBody>(
      "POST",
      `/agents/${omni.body.id}/turns/t1/cancel`,
    );
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain("cannot cancel");
  });

  test("schema errors are 422 naming the field; an unknown protocol is a 400 listing the known ones", async () => {
    const world = inProcessAgentd();
    const typo = await world.request<ErrorBody>("POST", "/agents", { modle: "x" });
    expect(typo.status).toBe(422);
    const bad = await world.request<ErrorBody>("POST", "/agents", { protocol: "smoke-signals" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/unknown protocol "smoke-signals"; known: .*omni/);
    const status = await world.request<ErrorBody>("GET", "/agents?status=sleeping");
    expect(status.status).toBe(422);
  });

  test("unknown agents and turns are 404", async () => {
    const world = inProcessAgentd();
    expect((await world.request("GET", "/agents/nobody")).status).toBe(404);
    const agent = await created(world);
    expect((await world.request("GET", `/agents/${agent.id}/turns/nope`)).status).toBe(404);
    expect((await world.request("POST", `/agents/${agent.id}/turns/nope/cancel`)).status).toBe(404);
  });

  test("the OpenAPI document describes every event type the streams carry", async () => {
    const world = inProcessAgentd();
    const doc = await world.request<{
      components: { schemas: { StoredEvent: { anyOf: { title: string }[] } } };
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    }>("GET", "/openapi/json");
    const titles = doc.body.components.schemas.StoredEvent.anyOf.map((schema) => schema.title);
    expect(titles.sort()).toEqual([...EVENT_TYPES].sort());
    expect(JSON.stringify(doc.body.paths["/events"]?.get?.responses)).toContain(
      "text/event-stream",
    );
  });
});
