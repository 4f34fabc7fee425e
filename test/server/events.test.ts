import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { EventBus } from "../../src/events/bus.ts";
import { sseResponse } from "../../src/server/sse.ts";
import { insertAgent } from "../../src/store/agents.ts";
import { openDatabase } from "../../src/store/db.ts";
import { Transactions } from "../../src/store/transactions.ts";
import { ask, spawnFake, waitForStatus } from "../helpers/agents.ts";
import {
  daemonDatabase,
  daemonPaths,
  startDaemon,
  stopAllDaemons,
  type TestDaemon,
} from "../helpers/daemon.ts";
import { readEvents, type SseEvent } from "../helpers/sse.ts";
import { sampleAgent } from "../helpers/store.ts";
import { tempDir } from "../helpers/tmp.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

function storedEvents(daemon: TestDaemon, agentId: string): { seq: number; type: string }[] {
  const db = daemonDatabase(daemon);
  const rows = db
    .query<{ seq: number; type: string }, [string]>(
      "SELECT seq, type FROM events WHERE agent_id = ? ORDER BY seq",
    )
    .all(agentId);
  db.close();
  return rows;
}

function storedSeqs(daemon: TestDaemon, agentId: string): number[] {
  return storedEvents(daemon, agentId).map((row) => row.seq);
}

const completedTurn = (events: SseEvent[]) => events.some((e) => e.event === "turn.completed");

describe("event streams", () => {
  test("an agent's life, from its creation on, shows up as typed events with increasing ids", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    await ask(daemon, agent.id, "STDERR please");
    await ask(daemon, agent.id, "FAIL");
    await ask(daemon, agent.id, "TAGGED");
    await daemon.api(`/agents/${agent.id}/stop`, { method: "POST" });
    const events = await readEvents(`${daemon.url}/agents/${agent.id}/events?since=0`, (seen) =>
      seen.some((e) => e.event === "exit"),
    );
    const types = new Set(events.map((e) => e.event));
    for (const type of [
      "status",
      "turn.started",
      "turn.completed",
      "turn.failed",
      "usage",
      "tool",
      "log",
      "exit",
    ]) {
      expect(types).toContain(type);
    }
    for (let i = 1; i < events.length; i++) {
      expect((events[i] as SseEvent).id).toBeGreaterThan((events[i - 1] as SseEvent).id);
    }
    const first = events[0] as SseEvent;
    expect(first.data).toMatchObject({ seq: first.id, agent_id: agent.id, type: first.event });
    expect(first.data.data).toEqual({ status: "pending", previous: null });
  });

  test("without a resume point only live events are sent; /events carries every agent", async () => {
    const daemon = await startDaemon();
    const a = await spawnFake(daemon);
    await ask(daemon, a.id, "before");
    const b = await spawnFake(daemon);
    const live = readEvents(`${daemon.url}/events`, (seen) => {
      const agents = new Set(
        seen.filter((e) => e.event === "turn.completed").map((e) => e.data.agent_id),
      );
      return agents.has(a.id) && agents.has(b.id);
    });
    await waitFor("the stream to be connected", async () => {
      const health = await daemon.api<{ event_streams: number }>("/health");
      return health.body.event_streams === 1;
    });
    await ask(daemon, a.id, "after");
    await ask(daemon, b.id, "after");
    const events = await live;
    expect(events.some((e) => e.data.data.response === "echo: before")).toBe(false);
  });

  test("resuming from Last-Event-ID while events keep arriving has no gap and no duplicate", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    await daemon.api(`/agents/${agent.id}/send`, {
      method: "POST",
      body: JSON.stringify({ message: "FLOOD:3000" }),
    });
    const firstPart = await readEvents(
      `${daemon.url}/agents/${agent.id}/events?since=0`,
      (seen) => seen.length >= 200,
    );
    const resumeFrom = (firstPart.at(-1) as SseEvent).id;
    const secondPart = await readEvents(`${daemon.url}/agents/${agent.id}/events`, completedTurn, {
      "last-event-id": String(resumeFrom),
    });
    expect(storedSeqs(daemon, agent.id).length).toBeGreaterThan(resumeFrom);
    const seen = [...firstPart, ...secondPart].map((e) => e.id);
    expect(new Set(seen).size).toBe(seen.length);
    const upTo = seen.at(-1) as number;
    expect(seen).toEqual(storedSeqs(daemon, agent.id).filter((seq) => seq <= upTo));
  });

  test("a subscriber that never reads is disconnected with one line in the daemon log, and the agent's events keep being stored", async () => {
    const daemon = await startDaemon({ env: { AGENTD_SSE_BUFFER: "50" } });
    const agent = await spawnFake(daemon);
    const port = new URL(daemon.url).port;
    // bash writes the request and then never reads the socket.
    const sleeper = Bun.spawn([
      "bash",
      "-c",
      `exec 3<>/dev/tcp/127.0.0.1/${port}; printf 'GET /agents/${agent.id}/events HTTP/1.1\\r\\nHost: 127.0.0.1:${port}\\r\\n\\r\\n' >&3; sleep 120`,
    ]);
    try {
      await waitFor("the stream to be connected", async () => {
        const health = await daemon.api<{ event_streams: number }>("/health");
        return health.body.event_streams === 1;
      });
      const answer = await ask(daemon, agent.id, "FLOOD:20000");
      expect(answer.status).toBe("completed");
      await waitFor("the slow subscriber to be cut off", async () => {
        const health = await daemon.api<{ event_streams: number }>("/health");
        return health.body.event_streams === 0;
      });
      // Stored on after the cut-off, up to the turn's end, within the retention of 10 000.
      const stored = storedEvents(daemon, agent.id);
      expect(stored.length).toBeGreaterThanOrEqual(10_000);
      expect(stored.some((event) => event.type === "turn.completed")).toBe(true);
      expect(sleeper.exitCode).toBeNull();
      // One line in the daemon's log says so; no stack trace.
      const lines = daemon.stderr().split("\n");
      expect(lines.filter((line) => line.includes("event stream cut off"))).toHaveLength(1);
      expect(lines.filter((line) => /^\s+at |^error:|^\d+ \| /.test(line))).toEqual([]);
    } finally {
      sleeper.kill();
    }
  });

  test("events beyond the per-agent retention are pruned", async () => {
    const daemon = await startDaemon({ args: ["--event-retention", "100"] });
    const agent = await spawnFake(daemon);
    await ask(daemon, agent.id, "FLOOD:1000");
    await waitFor("old events to be pruned", () => storedSeqs(daemon, agent.id).length <= 100);
    await ask(daemon, agent.id, "still working");
    const kept = storedSeqs(daemon, agent.id);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThanOrEqual(200);
  });

  test("a malformed Last-Event-ID is a 400", async () => {
    const daemon = await startDaemon();
    const res = await daemon.api<{ error: { message: string } }>("/events", {
      headers: { "last-event-id": "abc" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("Last-Event-ID");
  });

  test("an idle stream gets heartbeat comments", async () => {
    const db = openDatabase(join(tempDir(), "agentd.db"));
    insertAgent(db, sampleAgent("quiet-1"));
    const bus = new EventBus(db, new Transactions(db), 1000);
    const response = sseResponse(
      (onOverflow) => bus.open({ after: 0, maxBuffered: 10, onOverflow }),
      30,
    );
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = "";
    while (!text.includes(": heartbeat")) {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
    bus.record("quiet-1", "status", { status: "idle", previous: "starting" });
    while (!text.includes("event: status")) {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    expect(bus.subscriberCount).toBe(0);
    db.close();
  });
});

describe("log following", () => {
  test("logs?follow=1 streams lines as they are written and ends when the agent stops", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    await ask(daemon, agent.id, "first");
    const response = await fetch(`${daemon.url}/agents/${agent.id}/logs?follow=1`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = "";
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`log stream ended before "${needle}"`);
        text += new TextDecoder().decode(value);
      }
    };
    await readUntil("echo: first");
    await ask(daemon, agent.id, "second");
    await readUntil("echo: second");
    await daemon.api(`/agents/${agent.id}/stop`, { method: "POST" });
    await waitForStatus(daemon, agent.id, "stopped");
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
  });

  test("logs read across rotation: all of it from the oldest kept file, tail across files, follow through rotations", async () => {
    const daemon = await startDaemon({ args: ["--log-max-bytes", "8192", "--log-keep", "20"] });
    const agent = await spawnFake(daemon);
    // (A stream's headers come with its first bytes: the log must have some.)
    await ask(daemon, agent.id, "hello");
    const response = await fetch(`${daemon.url}/agents/${agent.id}/logs?follow=1`);
    await ask(daemon, agent.id, "FLOOD:60");
    const logDir = join(daemonPaths(daemon.home).logRoot, agent.id);
    expect(readdirSync(logDir).length).toBeGreaterThan(5);
    const whole = await fetch(`${daemon.url}/agents/${agent.id}/logs`).then((r) => r.text());
    const calls = (text: string) =>
      text
        .split("\n")
        .filter((line) => line.includes('"tool_call"'))
        .map((line) => (JSON.parse(line) as { args: { i: number } }).args.i);
    expect(calls(whole)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    const tail = await fetch(`${daemon.url}/agents/${agent.id}/logs?tail=20`).then((r) => r.text());
    expect(tail.trimEnd().split("\n")).toHaveLength(20);
    expect(whole.endsWith(tail)).toBe(true);
    await daemon.api(`/agents/${agent.id}/stop`, { method: "POST" });
    expect(await response.text()).toBe(whole);
  });

  test("logs?tail=N returns the last N lines", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    await ask(daemon, agent.id, "one");
    const text = await fetch(`${daemon.url}/agents/${agent.id}/logs?tail=2`).then((r) => r.text());
    const lines = text.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain("agent_complete");
  });
});
