import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnFake } from "../helpers/agents.ts";
import { MAIN, startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";
import { readEvents } from "../helpers/sse.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine, and idle timeouts to sit out: Bun's 5 s default is too short.
setDefaultTimeout(120_000);

afterAll(stopAllDaemons);

/** The shortest idle timeout, so that the tests wait little for it. */
const IDLE = { AGENTD_HTTP_IDLE_TIMEOUT_S: "1" };

interface IdleConnection {
  answered(): boolean;
  closedByServer(): boolean;
  close(): void;
}

/** A keep-alive connection that asks for /health once and then says nothing more. */
async function idleConnection(daemon: TestDaemon): Promise<IdleConnection> {
  const { hostname, port } = new URL(daemon.url);
  let reply = "";
  let closed = false;
  const socket = await Bun.connect({
    hostname,
    port: Number(port),
    socket: {
      data(_socket, chunk) {
        reply += chunk.toString();
      },
      close() {
        closed = true;
      },
    },
  });
  socket.write(`GET /health HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`);
  return {
    answered: () => reply.startsWith("HTTP/1.1 200"),
    closedByServer: () => closed,
    close: () => socket.end(),
  };
}

describe("idle HTTP connections", () => {
  test("idle keep-alive connections are closed, so that more of them than the daemon has descriptors for cannot keep new clients out", async () => {
    // 128 descriptors, and 200 clients that connect and then sit idle.
    const daemon = await startDaemon({
      command: ["prlimit", "--nofile=128:128", process.execPath, "--no-orphans", MAIN],
      env: IDLE,
    });
    const idle = await Promise.all(Array.from({ length: 200 }, () => idleConnection(daemon)));
    try {
      const fresh = await fetch(`${daemon.url}/health`, { signal: AbortSignal.timeout(60_000) });
      expect(fresh.status).toBe(200);
      await waitFor(
        "the server to close every idle connection",
        () => idle.every((connection) => connection.closedByServer()),
        60_000,
      );
      expect(idle.some((connection) => connection.answered())).toBe(true);
    } finally {
      for (const connection of idle) connection.close();
    }
  });

  test("event streams, followed logs and waits for a turn outlast the idle timeout", async () => {
    const daemon = await startDaemon({ env: IDLE });
    const agent = await spawnFake(daemon);
    const events = readEvents(`${daemon.url}/agents/${agent.id}/events`, (seen) =>
      seen.some((event) => event.data.type === "status" && event.data.data.status === "stopped"),
    );
    const log = fetch(`${daemon.url}/agents/${agent.id}/logs?follow=1`).then((res) => res.text());
    const sent = await daemon.api(`/agents/${agent.id}/send`, {
      method: "POST",
      body: JSON.stringify({ message: "SLOW:600000", turn_id: "long" }),
    });
    expect(sent.status).toBe(200);
    const waited = daemon.api<{ status: string }>(`/agents/${agent.id}/turns/long?wait=1`);

    // A connection opened after all three, closed for being idle: the timeout has passed.
    const probe = await idleConnection(daemon);
    await waitFor("the idle probe to be closed", () => probe.closedByServer(), 30_000);

    const stopped = await daemon.api(`/agents/${agent.id}/stop`, { method: "POST" });
    expect(stopped.status).toBe(200);
    expect((await waited).body.status).toBe("cancelled");
    expect((await events).length).toBeGreaterThan(0);
    expect(await log).toContain('"agent_start"');
  });
});
