import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { CreateAgentInput } from "../../src/api/schemas.ts";
import { eventsAfter } from "../../src/store/events.ts";
import { listMessages } from "../../src/store/messages.ts";
import { inProcessAgentd } from "../helpers/in-process.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

/** A world with one agent on the scripted protocol; the test speaks for the agent. */
async function oneAgent(input: Partial<CreateAgentInput> = {}) {
  const world = inProcessAgentd();
  const agent = await world.service.create({
    protocol: "scripted",
    command: [process.execPath],
    cwd: world.home,
    ...input,
  });
  return { world, id: agent.id };
}

function storedEvents(world: ReturnType<typeof inProcessAgentd>, id: string) {
  return eventsAfter(world.db, { agentId: id, after: 0, limit: 10_000 }).map((event) => ({
    type: event.type,
    data: event.data,
  }));
}

describe("turn correlation", () => {
  test("an event naming a turn ends that turn, even when answers come out of order", async () => {
    const { world, id } = await oneAgent();
    await world.service.send(id, { message: "one", turn_id: "t1" });
    await world.service.send(id, { message: "two", turn_id: "t2" });
    world.agent.say(id, { type: "turn.completed", turn_id: "t2", response: "second" });
    world.agent.say(id, { type: "turn.completed", turn_id: "t1", response: "first" });
    expect(world.service.turn(id, "t1")).toMatchObject({ status: "completed", response: "first" });
    expect(world.service.turn(id, "t2")).toMatchObject({ status: "completed", response: "second" });
  });

  test("an event naming no turn is about the oldest turn still open (agents that answer in order)", async () => {
    const { world, id } = await oneAgent();
    await world.service.send(id, { message: "one", turn_id: "t1" });
    await world.service.send(id, { message: "two", turn_id: "t2" });
    world.agent.say(id, { type: "turn.started" });
    expect(world.service.turn(id, "t1").status).toBe("running");
    world.agent.say(id, { type: "turn.completed", response: "a" });
    world.agent.say(id, { type: "turn.failed", error: "b" });
    expect(world.service.turn(id, "t1")).toMatchObject({ status: "completed", response: "a" });
    expect(world.service.turn(id, "t2")).toMatchObject({ status: "error", error: "b" });
  });

  test("an event naming a turn agentd does not know ends no turn, and is still recorded", async () => {
    const { world, id } = await oneAgent();
    await world.service.send(id, { message: "one", turn_id: "t1" });
    world.agent.say(id, { type: "turn.completed", turn_id: "stranger", response: "huh" });
    expect(world.service.turn(id, "t1").status).toBe("queued");
    expect(world.service.get(id).status).toBe("running");
    const completed = storedEvents(world, id).filter((e) => e.type === "turn.completed");
    expect(completed).toEqual([
      { type: "turn.completed", data: { turn_id: "stranger", response: "huh" } },
    ]);
  });

  test("a second end of a turn that has already ended changes nothing", async () => {
    const { world, id } = await oneAgent();
    await world.service.send(id, { message: "one", turn_id: "t1" });
    world.agent.say(id, { type: "turn.completed", turn_id: "t1", response: "first" });
    world.agent.say(
      id,
      { type: "turn.completed", turn_id: "t1", response: "again" },
      { type: "turn.failed", turn_id: "t1", error: "late" },
    );
    expect(world.service.turn(id, "t1")).toMatchObject({ status: "completed", response: "first" });
    expect(world.service.get(id)).toMatchObject({ turns: 1, status: "idle", summary: "first" });
    expect(listMessages(world.db, id).map((m) => m.content)).toEqual(["one", "first"]);
  });

  test("usage counts toward the turn under way and the agent; an unknown cost stays unknown", async () => {
    const { world, id } = await oneAgent();
    await world.service.send(id, { message: "one", turn_id: "t1" });
    world.agent.say(id, {
      type: "usage",
      input_tokens: 5,
      output_tokens: 7,
      cost_micro_usd: null,
    });
    expect(world.service.get(id)).toMatchObject({ input_tokens: 5, cost_micro_usd: null });
    world.agent.say(id, { type: "usage", input_tokens: 1, output_tokens: 1, cost_micro_usd: 250 });
    expect(world.service.turn(id, "t1")).toMatchObject({
      input_tokens: 6,
      output_tokens: 8,
      cost_micro_usd: 250,
    });
    expect(world.service.get(id).cost_micro_usd).toBe(250);
  });
});

describe("what sessions report besides turns", () => {
  test("the CLI's conversation id is kept on the agent, for a new process to resume", async () => {
    const { world, id } = await oneAgent();
    world.agent.say(id, { type: "session", session_id: "conv-42" });
    expect(world.service.get(id).session_id).toBe("conv-42");
    expect(storedEvents(world, id).filter((e) => e.type === "session")).toEqual([
      { type: "session", data: { session_id: "conv-42" } },
    ]);
  });

  test("a permission the policy answered is recorded as an event", async () => {
    const { world, id } = await oneAgent({ permissions: "read-only" });
    expect(world.service.get(id).permissions).toBe("read-only");
    world.agent.say(id, {
      type: "permission",
      tool: "bash",
      decision: "denied",
      reason: "read-only allows reading only",
      detail: { command: "rm -rf /" },
    });
    expect(storedEvents(world, id).filter((e) => e.type === "permission")).toEqual([
      {
        type: "permission",
        data: {
          tool: "bash",
          decision: "denied",
          reason: "read-only allows reading only",
          detail: { command: "rm -rf /" },
        },
      },
    ]);
  });
});

describe("cancelling a turn", () => {
  test("cancel asks the agent through its protocol; the turn ends cancelled and the agent is idle", async () => {
    const { world, id } = await oneAgent();
    await world.service.send(id, { message: "long job", turn_id: "t1" });
    await world.service.cancel(id, "t1");
    expect(world.agent.written(id).at(-1)).toBe(`${JSON.stringify({ cancel: "t1" })}\n`);
    world.agent.say(id, { type: "turn.cancelled", turn_id: "t1", reason: "interrupted" });
    expect(world.service.turn(id, "t1")).toMatchObject({
      status: "cancelled",
      error: "interrupted",
    });
    expect(world.service.get(id).status).toBe("idle");
    expect(storedEvents(world, id).map((e) => e.type)).toContain("turn.cancelled");
  });

  test("a turn that has ended, or an agent whose protocol cannot cancel, is a conflict", async () => {
    const { world, id } = await oneAgent();
    await world.service.send(id, { message: "quick", turn_id: "t1" });
    world.agent.say(id, { type: "turn.completed", turn_id: "t1", response: "done" });
    await expect(world.service.cancel(id, "t1")).rejects.toThrow(/already completed/);
    const omni = await world.service.create({ command: [process.execPath], cwd: world.home });
    await world.service.send(omni.id, { message: "x", turn_id: "t1" });
    await expect(world.service.cancel(omni.id, "t1")).rejects.toThrow(/omni, which cannot cancel/);
  });
});

describe("the status machine", () => {
  test("created pending, then starting, idle, running while a turn is open, idle again, stopping, stopped — each an event", async () => {
    const { world, id } = await oneAgent({ start: false });
    expect(world.service.get(id).status).toBe("pending");
    await world.service.start(id);
    await world.service.send(id, { message: "hi", turn_id: "t1" });
    expect(world.service.get(id).status).toBe("running");
    world.agent.say(id, { type: "turn.completed", turn_id: "t1", response: "hello" });
    await world.service.stop(id);
    const statuses = storedEvents(world, id)
      .filter((e) => e.type === "status")
      .map((e) => e.data);
    expect(statuses).toEqual([
      { status: "pending", previous: null },
      { status: "starting", previous: "pending" },
      { status: "idle", previous: "starting" },
      { status: "running", previous: "idle" },
      { status: "idle", previous: "running" },
      { status: "stopping", previous: "idle" },
      { status: "stopped", previous: "stopping" },
    ]);
  });

  test("a stop ends open turns as cancelled; an exit on its own ends them as errors", async () => {
    const stopped = await oneAgent();
    await stopped.world.service.send(stopped.id, { message: "x", turn_id: "t1" });
    await stopped.world.service.stop(stopped.id);
    expect(stopped.world.service.turn(stopped.id, "t1").status).toBe("cancelled");

    const crashed = await oneAgent();
    await crashed.world.service.send(crashed.id, { message: "x", turn_id: "t1" });
    crashed.world.agent.exit(crashed.id, 3);
    expect(crashed.world.service.turn(crashed.id, "t1")).toMatchObject({
      status: "error",
      error: "the agent exited with code 3 before answering",
    });
    expect(crashed.world.service.get(crashed.id)).toMatchObject({
      status: "failed",
      exit_code: 3,
      error: "the agent exited with code 3",
    });
  });

  test("an exit with code 0 on its own is completed; one by a signal is failed", async () => {
    const done = await oneAgent();
    done.world.agent.exit(done.id, 0);
    expect(done.world.service.get(done.id).status).toBe("completed");
    const killed = await oneAgent();
    killed.world.agent.exit(killed.id, null, "SIGKILL");
    expect(killed.world.service.get(killed.id)).toMatchObject({
      status: "failed",
      error: "the agent was killed by SIGKILL",
    });
  });

  test("prompts are refused unless the agent is starting, idle or running", async () => {
    const { world, id } = await oneAgent({ start: false });
    await expect(world.service.send(id, { message: "x" })).rejects.toThrow(/is pending/);
    await world.service.start(id);
    await world.service.stop(id);
    await expect(world.service.send(id, { message: "x" })).rejects.toThrow(/is stopped/);
  });
});
