import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { PersistentRuntime } from "../../../src/runtimes/persistent/runtime.ts";
import { RunRuntime } from "../../../src/runtimes/run/runtime.ts";
import { eventsAfter } from "../../../src/store/events.ts";
import { handshake } from "../../fixtures/handshake-protocol.ts";
import { REPO_ROOT } from "../../helpers/daemon.ts";
import { inProcessAgentd } from "../../helpers/in-process.ts";
import { waitFor } from "../../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

const HANDSHAKE_AGENT = [process.execPath, join(REPO_ROOT, "test/fixtures/handshake-agent.ts")];

/** agentd in process, running real agent processes, with the two-way test protocol. */
function world() {
  return inProcessAgentd({
    protocols: [handshake],
    runtimes: (deps) => ({ run: new RunRuntime(deps), persistent: new PersistentRuntime(deps) }),
  });
}

async function spawn(w: ReturnType<typeof world>, env: Record<string, string> = {}) {
  return w.service.create({
    protocol: "handshake",
    command: HANDSHAKE_AGENT,
    cwd: w.home,
    env,
  });
}

describe("a two-way protocol through the session seam", () => {
  test("the handshake comes before the first prompt, and the agent's own question is answered", async () => {
    const w = world();
    const agent = await spawn(w);
    expect(agent.status).toBe("idle");
    const answer = await w.service.send(agent.id, {
      message: "hello",
      wait: true,
      timeout_ms: 10_000,
    });
    expect(answer).toMatchObject({ status: "completed", response: "echo: hello" });
    const tools = eventsAfter(w.db, { agentId: agent.id, after: 0, limit: 100 }).filter(
      (event) => event.type === "tool",
    );
    expect(tools.map((event) => event.data)).toEqual([
      { phase: "call", name: "confirm", detail: { question: 'may I answer "hello"?' } },
    ]);
  });

  test("a turn is cancelled with the protocol's interrupt while the agent keeps running", async () => {
    const w = world();
    const agent = await spawn(w);
    const sent = await w.service.send(agent.id, { message: "SLOW job", turn_id: "t1" });
    expect(sent.status).toBe("sent");
    await waitFor("the turn to start", () =>
      w.service.turn(agent.id, "t1").status === "running" ? true : undefined,
    );
    await w.service.cancel(agent.id, "t1");
    const turn = await w.service.awaitTurn(agent.id, "t1", 10_000);
    expect(turn.status).toBe("cancelled");
    expect(w.service.get(agent.id).status).toBe("idle");
    expect(await w.service.send(agent.id, { message: "still there?", wait: true })).toMatchObject({
      response: "echo: still there?",
    });
  });

  test("stop says the protocol's goodbye before any signal: the agent exits 0 on its own", async () => {
    const w = world();
    const agent = await spawn(w);
    await w.service.stop(agent.id, 10_000);
    const exit = eventsAfter(w.db, { agentId: agent.id, after: 0, limit: 100 }).find(
      (event) => event.type === "exit",
    );
    expect(exit?.data).toEqual({ code: 0, signal: null, stopped: true });
    expect(w.service.get(agent.id).status).toBe("stopped");
  });

  test("a refused handshake fails the creation with the agent's reason and leaves nothing behind", async () => {
    const w = world();
    await expect(spawn(w, { HANDSHAKE_REFUSE: "1" })).rejects.toThrow(/no licence to answer/);
    expect(w.service.page({ limit: 1000 }).agents).toEqual([]);
  });

  test("a program that exits during its handshake fails the creation at once, quoting its stderr", async () => {
    const w = world();
    // The exit itself ends the wait (not the handshake's time limit, whose error reads otherwise).
    await expect(spawn(w, { HANDSHAKE_EXIT: "1" })).rejects.toThrow(
      /exited with code 1 before it was ready: fatal: no API key configured/,
    );
    expect(w.service.page({ limit: 1000 }).agents).toEqual([]);
  });
});
