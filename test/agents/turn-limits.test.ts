import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Deadlines } from "../../src/agents/deadlines.ts";
import { listDeliveries } from "../../src/store/webhooks.ts";
import { startWebhookReceiver } from "../fixtures/webhook-receiver.ts";
import { ask, getAgent, spawnFake, waitForStatus } from "../helpers/agents.ts";
import { startDaemon, stopAllDaemons } from "../helpers/daemon.ts";
import { inProcessAgentd } from "../helpers/in-process.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

const receiver = startWebhookReceiver();
afterAll(async () => {
  await stopAllDaemons();
  await receiver.stop();
});

describe("deadlines", () => {
  test("arming a key again replaces its timer; a disarmed one never fires", async () => {
    const deadlines = new Deadlines();
    const fired: string[] = [];
    deadlines.arm("a", 10_000, () => fired.push("a-first"));
    deadlines.arm("a", 5, () => fired.push("a"));
    deadlines.arm("b", 5, () => fired.push("b"));
    deadlines.disarm("b");
    await waitFor("a to fire", () => fired.length > 0);
    expect(fired).toEqual(["a"]);
    expect(deadlines.armed).toBe(0);
  });
});

describe("turn_timeout_s", () => {
  test("a turn still open after its limit is failed with an error event and webhook; with restart no, the agent runs on", async () => {
    const world = inProcessAgentd();
    const agent = await world.service.create({
      protocol: "scripted",
      command: [process.execPath],
      cwd: world.home,
      turn_timeout_s: 1,
      webhook: "http://127.0.0.1:9/hook",
    });
    expect(agent.turn_timeout_s).toBe(1);
    const sent = await world.service.send(agent.id, { message: "take your time", turn_id: "t1" });
    expect(sent.status).toBe("sent");
    const turn = await world.service.awaitTurn(agent.id, "t1", 10_000);
    expect(turn).toMatchObject({
      status: "error",
      error: "the turn took longer than its limit of 1 s (turn_timeout_s)",
    });
    expect(world.service.get(agent.id).status).toBe("idle");
    // The error webhook is in the outbox (this world delivers none).
    expect(listDeliveries(world.db, agent.id).map((delivery) => delivery.event)).toEqual(["error"]);
    // Still its process: a late answer to that turn changes nothing, the next turn works.
    world.agent.say(agent.id, { type: "turn.completed", turn_id: "t1", response: "late" });
    expect(world.service.turn(agent.id, "t1").status).toBe("error");
    await world.service.send(agent.id, { message: "next", turn_id: "t2" });
    world.agent.say(agent.id, { type: "turn.completed", turn_id: "t2", response: "ok" });
    expect(world.service.turn(agent.id, "t2").status).toBe("completed");
  });

  test("a turn that ends in time drops its deadline; PATCH sets or clears the limit", async () => {
    const world = inProcessAgentd();
    const agent = await world.service.create({
      protocol: "scripted",
      command: [process.execPath],
      cwd: world.home,
    });
    const patched = await world.request<{ agent: { turn_timeout_s: number | null } }>(
      "PATCH",
      `/agents/${agent.id}`,
      { turn_timeout_s: 1 },
    );
    expect(patched.body.agent.turn_timeout_s).toBe(1);
    await world.service.send(agent.id, { message: "quick", turn_id: "t1" });
    expect(world.deadlines.armed).toBe(1);
    world.agent.say(agent.id, { type: "turn.completed", turn_id: "t1", response: "done" });
    expect(world.deadlines.armed).toBe(0);
    const cleared = await world.request<{ agent: { turn_timeout_s: number | null } }>(
      "PATCH",
      `/agents/${agent.id}`,
      { turn_timeout_s: null },
    );
    expect(cleared.body.agent.turn_timeout_s).toBeNull();
    expect(world.service.turn(agent.id, "t1").status).toBe("completed");
  });

  test("with a restart policy, a run whose turn ran out of time is replaced by a new process", async () => {
    const daemon = await startDaemon({ env: { AGENTD_RESTART_DELAY_MS: "50" } });
    const agent = await spawnFake(daemon, {
      restart: "on-failure",
      turn_timeout_s: 1,
      webhook: receiver.url,
    });
    const answer = await ask(daemon, agent.id, "SLOW:60000");
    expect(answer).toMatchObject({
      status: "error",
      error: "the turn took longer than its limit of 1 s (turn_timeout_s)",
    });
    await waitFor("the error webhook", () => receiver.forAgent(agent.id, "error")[0]);
    const again = await waitFor("a new process", async () => {
      const now = await getAgent(daemon, agent.id);
      return now.status === "idle" && now.pid !== agent.pid && now;
    });
    expect(again.restarts).toBe(1);
    expect((await ask(daemon, agent.id, "hello")).response).toBe("echo: hello");
  });

  test("with restart no, the run keeps its process", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon, {
      turn_timeout_s: 1,
      env: { FAKE_AGENT_CONCURRENT: "1" },
    });
    expect((await ask(daemon, agent.id, "SLOW:60000")).status).toBe("error");
    expect((await ask(daemon, agent.id, "hello")).response).toBe("echo: hello");
    expect((await waitForStatus(daemon, agent.id, "idle")).pid).toBe(agent.pid);
  });
});

describe("turn_idle_timeout_s (the watchdog for agents that hang)", () => {
  async function watchedAgent(world: ReturnType<typeof inProcessAgentd>) {
    return world.service.create({
      protocol: "scripted",
      command: [process.execPath],
      cwd: world.home,
      turn_idle_timeout_s: 1,
    });
  }

  test("a turn whose agent says nothing for the limit is failed, and the agent asked to cancel it", async () => {
    const world = inProcessAgentd();
    const agent = await watchedAgent(world);
    expect(agent.turn_idle_timeout_s).toBe(1);
    await world.service.send(agent.id, { message: "hang", turn_id: "t1" });
    const turn = await world.service.awaitTurn(agent.id, "t1", 10_000);
    expect(turn).toMatchObject({
      status: "error",
      error:
        "the agent produced no output for 1 s during the turn (turn_idle_timeout_s); it may be hung",
    });
    // The scripted protocol can cancel: the interrupt went to the agent.
    await waitFor("the interrupt", () =>
      world.agent.written(agent.id).includes(`${JSON.stringify({ cancel: "t1" })}\n`),
    );
    expect(world.service.get(agent.id).status).toBe("idle");
  });

  test("output keeps the watchdog away however long the turn takes", async () => {
    const world = inProcessAgentd();
    const agent = await watchedAgent(world);
    await world.service.send(agent.id, { message: "long but talkative", turn_id: "t1" });
    const began = Date.now();
    // Far more often than the limit, for twice the limit: the turn stays open all along.
    while (Date.now() - began < 2_000) {
      world.agent.say(agent.id, { type: "tool", phase: "call", name: "bash" });
      expect(world.service.turn(agent.id, "t1").status).toBe("queued");
      await Bun.sleep(100);
    }
    world.agent.say(agent.id, { type: "turn.completed", turn_id: "t1", response: "done" });
    expect(world.service.turn(agent.id, "t1").status).toBe("completed");
  });

  test("silence is watched only while a turn is open, and only with the setting", async () => {
    const world = inProcessAgentd();
    const watched = await watchedAgent(world);
    expect(world.turnLimits.watchingSilence(watched.id)).toBe(false);
    await world.service.send(watched.id, { message: "quick", turn_id: "t1" });
    expect(world.turnLimits.watchingSilence(watched.id)).toBe(true);
    world.agent.say(watched.id, { type: "turn.completed", turn_id: "t1", response: "ok" });
    expect(world.turnLimits.watchingSilence(watched.id)).toBe(false);
    const unwatched = await world.service.create({
      protocol: "scripted",
      command: [process.execPath],
      cwd: world.home,
    });
    await world.service.send(unwatched.id, { message: "hang", turn_id: "t1" });
    expect(world.turnLimits.watchingSilence(unwatched.id)).toBe(false);
  });

  test("a real agent that hangs mid-turn is caught; PATCH sets and clears the limit", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon, { turn_idle_timeout_s: 1 });
    const answer = await ask(daemon, agent.id, "SLOW:30000 then hang");
    expect(answer).toMatchObject({ status: "error" });
    expect(answer.error).toContain("no output for 1 s");
    const cleared = await daemon.api<{ agent: { turn_idle_timeout_s: number | null } }>(
      `/agents/${agent.id}`,
      { method: "PATCH", body: JSON.stringify({ turn_idle_timeout_s: null }) },
    );
    expect(cleared.body.agent.turn_idle_timeout_s).toBeNull();
  });
});
