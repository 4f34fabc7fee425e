import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { runCli } from "./run-cli.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

/**
 * What goes wrong between the CLI and a daemon is told in agentd's words: no Bun internals
 * ("pass `verbose: true` in the second argument to fetch()"), no raw error codes alone.
 */

const listeners: { stop(closeActive?: boolean): void }[] = [];

afterAll(() => {
  for (const listener of listeners) listener.stop(true);
});

/** A TCP server on 127.0.0.1 that answers every request with `reply`, then closes. */
function rawServer(reply: (socket: Socket) => void): TCPSocketListener {
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { data: (socket) => reply(socket) },
  });
  listeners.push(server);
  return server;
}

function expectAgentdWords(stderr: string): void {
  expect(stderr).toStartWith("agentd: ");
  for (const internal of ["verbose", "fetch()", "TypeError", "Parse error", "    at "]) {
    expect(stderr).not.toContain(internal);
  }
}

describe("HTTP failures", () => {
  test("nothing listening: connection refused, and what to check", async () => {
    const { stderr, code } = await runCli(["ls"], { env: { AGENTD_URL: "http://127.0.0.1:1" } });
    expect(code).toBe(1);
    expectAgentdWords(stderr);
    expect(stderr).toContain("cannot talk to the agentd daemon at http://127.0.0.1:1");
    expect(stderr).toContain("connection refused");
    expect(stderr).toContain("--url or AGENTD_URL");
  });

  test("a server that hangs up without answering", async () => {
    const server = rawServer((socket) => socket.end());
    const url = `http://127.0.0.1:${server.port}`;
    const { stderr, code } = await runCli(["ls"], { env: { AGENTD_URL: url } });
    expect(code).toBe(1);
    expectAgentdWords(stderr);
    expect(stderr).toContain("the connection was closed before the answer was complete");
  });

  test("an answer cut off in the middle", async () => {
    const server = rawServer((socket) => {
      socket.write(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n[",
      );
      socket.end();
    });
    const url = `http://127.0.0.1:${server.port}`;
    const { stderr, code } = await runCli(["ls"], { env: { AGENTD_URL: url } });
    expect(code).toBe(1);
    expectAgentdWords(stderr);
    expect(stderr).toContain("closed before the answer was complete");
  });

  test("something that is not an agentd daemon answering", async () => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Response("<html>hello</html>", { headers: { "content-type": "text/html" } }),
    });
    listeners.push(server);
    const { stderr, code } = await runCli(["ls"], { env: { AGENTD_URL: server.url.href } });
    expect(code).toBe(1);
    expectAgentdWords(stderr);
    expect(stderr).toContain("with something that is not JSON; is it an agentd daemon?");
  });

  test("an event stream that breaks off", async () => {
    const server = rawServer((socket) => {
      socket.write(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n5\r\nretry",
      );
      socket.end();
    });
    const url = `http://127.0.0.1:${server.port}`;
    const { stderr, code } = await runCli(["events", "-f"], { env: { AGENTD_URL: url } });
    expect(code).toBe(1);
    expectAgentdWords(stderr);
    expect(stderr).toContain("the stream from the daemon broke off:");
  });
});
