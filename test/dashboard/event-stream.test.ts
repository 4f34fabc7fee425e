import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { StoredEvent } from "../../src/api/events.ts";
import type { AgentView } from "../../src/api/schemas.ts";
import { Api, type ApiError } from "../../src/dashboard/api.ts";
import { EventStream, type StreamState } from "../../src/dashboard/event-stream.ts";
import { MAIN, startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

/**
 * The dashboard's event stream reader against a real daemon: what it hands on is every stored
 * event exactly once, in order, across connections the daemon cut.
 */

const ECHO = [process.execPath, MAIN, "echo-agent"];

function follow(daemon: { url: string }, path: string, token: string | null = null) {
  const delivered: StoredEvent[] = [];
  const states: StreamState[] = [];
  const unauthorized: ApiError[] = [];
  const api = new Api({
    base: daemon.url,
    token: () => token,
    onUnauthorized: (error) => unauthorized.push(error),
  });
  const stream = new EventStream(api, path, {
    onOpen: () => {},
    onEvents: (events) => delivered.push(...events),
    onState: (state) => states.push(state),
  });
  stream.start();
  return { stream, delivered, states, unauthorized };
}

/** Every event the daemon has stored for the agent, read once (follow=0). */
async function storedEvents(daemon: TestDaemon, agentId: string): Promise<number[]> {
  const response = await fetch(`${daemon.url}/agents/${agentId}/events?since=0&follow=0`);
  const text = await response.text();
  return [...text.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));
}

async function echoAgent(daemon: TestDaemon): Promise<AgentView> {
  const created = await daemon.api<AgentView>("/agents", {
    method: "POST",
    body: JSON.stringify({ command: ECHO }),
  });
  expect(created.status).toBe(201);
  return created.body;
}

async function ask(daemon: TestDaemon, agentId: string, message: string) {
  const answer = await daemon.api<{ status: string }>(`/agents/${agentId}/send`, {
    method: "POST",
    body: JSON.stringify({ message, wait: true }),
  });
  expect(answer.body.status).toBe("completed");
}

const reconnects = (states: StreamState[]) =>
  states.filter((state) => state.kind === "reconnecting").length;

describe("EventStream", () => {
  test("cut off by the daemon (AGENTD_SSE_BUFFER), it resumes where it was: every event once, in order", async () => {
    const daemon = await startDaemon({ env: { AGENTD_SSE_BUFFER: "1" } });
    const agent = await echoAgent(daemon);
    const reader = follow(daemon, `/agents/${agent.id}/events?since=0`);
    await waitFor("the stream to be live", () => reader.states.at(-1)?.kind === "live");
    for (const message of ["one", "two", "three"]) await ask(daemon, agent.id, message);
    const stored = await storedEvents(daemon, agent.id);
    await waitFor("every stored event to be delivered", () =>
      reader.delivered.some((event) => event.seq === stored.at(-1)),
    );
    // A turn's events are published together, more than a buffer of one holds: cut each time.
    expect(reconnects(reader.states)).toBeGreaterThanOrEqual(1);
    expect(reader.delivered.map((event) => event.seq)).toEqual(stored);
    reader.stream.close();
  });

  test("after the daemon restarts on the same port, it reconnects and goes on from the last event it had", async () => {
    const first = await startDaemon();
    const agent = await echoAgent(first);
    await ask(first, agent.id, "before");
    const reader = follow(first, `/agents/${agent.id}/events?since=0`);
    const before = await storedEvents(first, agent.id);
    await waitFor("the stored events", () => reader.delivered.length === before.length);
    const port = new URL(first.url).port;
    expect(await first.stop()).toBe(0);
    await waitFor("the stream to notice", () => reader.states.at(-1)?.kind === "reconnecting");

    const second = await startDaemon({ home: first.home, args: ["--port", port] });
    await waitFor("the stream to be live again", () => reader.states.at(-1)?.kind === "live");
    await second.api(`/agents/${agent.id}/start`, { method: "POST" });
    await ask(second, agent.id, "after");
    const stored = await storedEvents(second, agent.id);
    await waitFor("the events since the restart", () =>
      reader.delivered.some((event) => event.seq === stored.at(-1)),
    );
    expect(reader.delivered.map((event) => event.seq)).toEqual(stored);
    reader.stream.close();
  });

  test("a refused token stops it, without trying again, and says so", async () => {
    const daemon = await startDaemon({ args: ["--token", "right-token"] });
    const reader = follow(daemon, "/events", "wrong-token");
    await waitFor("the stream to stop", () => reader.states.at(-1)?.kind === "stopped");
    const last = reader.states.at(-1);
    expect(last?.kind === "stopped" && last.error.status).toBe(401);
    expect(reader.unauthorized).toHaveLength(1);
    expect(reconnects(reader.states)).toBe(0);
  });

  test("with the token, it follows the events like anyone's", async () => {
    const daemon = await startDaemon({ args: ["--token", "right-token"] });
    const reader = follow(daemon, "/events", "right-token");
    await waitFor("the stream to be live", () => reader.states.at(-1)?.kind === "live");
    const created = await fetch(`${daemon.url}/agents`, {
      method: "POST",
      headers: { authorization: "Bearer right-token", "content-type": "application/json" },
      body: JSON.stringify({ command: ECHO, start: false }),
    });
    const agent = (await created.json()) as AgentView;
    await waitFor("its creation to arrive", () =>
      reader.delivered.some((event) => event.agent_id === agent.id && event.type === "status"),
    );
    reader.stream.close();
  });
});
