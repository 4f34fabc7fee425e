import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ask, spawnFake } from "../helpers/agents.ts";
import {
  daemonPaths,
  MAIN,
  startDaemon,
  stopAllDaemons,
  type TestDaemon,
} from "../helpers/daemon.ts";
import { tempDir } from "../helpers/tmp.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

async function stateWarnings(daemon: TestDaemon): Promise<string[]> {
  const health = await daemon.api<{ warnings: string[] }>("/health");
  return health.body.warnings.filter((warning) => warning.startsWith("state directory"));
}

describe("daemon HTTP basics", () => {
  test("starts on port 0, answers /health, and exits 0 on SIGTERM", async () => {
    const daemon = await startDaemon({ args: ["--log-level", "debug"] });
    expect(daemon.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await daemon.api<Record<string, unknown>>("/health");
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: true, agents: {} });
    expect(typeof health.body.version).toBe("string");
    expect(typeof health.body.uptime_s).toBe("number");
    expect(await daemon.stop("SIGTERM")).toBe(0);
    expect(daemon.stderr()).toContain("GET /health 200");
  });

  test("logs a line per request only at debug level", async () => {
    const daemon = await startDaemon();
    expect((await daemon.api("/health")).status).toBe(200);
    expect((await daemon.api("/agents/nobody")).status).toBe(404);
    expect(await daemon.stop("SIGTERM")).toBe(0);
    expect(daemon.stderr()).not.toContain("GET /health");
    expect(daemon.stderr()).not.toContain("GET /agents/nobody");
  });

  test("creates its state owner-only: directories 0700; database, its journal, lock and agent logs 0600", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    await ask(daemon, agent.id, "hello");
    const paths = daemonPaths(daemon.home);
    for (const dir of [
      paths.logRoot,
      paths.workspace,
      paths.stateDir,
      join(paths.logRoot, agent.id),
    ]) {
      expect(`${dir} ${(statSync(dir).mode & 0o777).toString(8)}`).toBe(`${dir} 700`);
    }
    const files = ["", "-wal", "-shm", ".lock"].map((suffix) => `${paths.db}${suffix}`);
    for (const file of [...files, join(paths.logRoot, agent.id, "agent.log")]) {
      expect(`${file} ${(statSync(file).mode & 0o777).toString(8)}`).toBe(`${file} 600`);
    }
    expect(await stateWarnings(daemon)).toEqual([]);
  });

  test("warns at start and in /health about a state directory others can write to", async () => {
    const home = tempDir("agentd-open-state-");
    const logs = join(home, "logs");
    mkdirSync(logs);
    chmodSync(logs, 0o777);
    const daemon = await startDaemon({ home });
    const warning = `state directory ${logs} is writable by everyone (mode 0777)`;
    expect(daemon.stderr()).toContain(warning);
    const warnings = await stateWarnings(daemon);
    expect(warnings).toEqual([expect.stringContaining(warning)]);
    expect(warnings[0]).toContain(`chmod 700 ${logs}`);
  });

  test("refuses to listen beyond loopback without a token: exit 2 and what to do", async () => {
    for (const host of ["0.0.0.0", "::", "192.0.2.1", "box.example"]) {
      const proc = Bun.spawn(
        [
          process.execPath,
          MAIN,
          "daemon",
          "--port",
          "0",
          "--host",
          host,
          "--db",
          join(tempDir(), "db"),
        ],
        { stderr: "pipe", stdout: "pipe", env: { ...process.env, AGENTD_TOKEN: "" } },
      );
      expect(await proc.exited).toBe(2);
      const stderr = await new Response(proc.stderr).text();
      expect(stderr).toContain(`--host ${host} is reachable from other machines`);
      expect(stderr).toContain("--token-file");
    }
    const daemon = await startDaemon({ args: ["--host", "0.0.0.0", "--token", "t"] });
    expect((await daemon.api("/agents")).status).toBe(401);
  });

  test("exits 0 on SIGINT too", async () => {
    const daemon = await startDaemon();
    expect(await daemon.stop("SIGINT")).toBe(0);
  });

  test("an unknown route gets the JSON error shape", async () => {
    const daemon = await startDaemon();
    const res = await daemon.api("/no/such/route");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: { code: "not_found", message: "no route for GET /no/such/route" },
    });
  });

  test("a request with a very short Host header is routed like any other", async () => {
    const daemon = await startDaemon({ args: ["--allowed-hosts", "a"] });
    const { hostname, port } = new URL(daemon.url);
    let reply = "";
    const socket = await Bun.connect({
      hostname,
      port: Number(port),
      socket: {
        data(_socket, chunk) {
          reply += chunk.toString();
        },
      },
    });
    socket.write("GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    await waitFor("the answer", () => reply.includes('"ok":true'));
    expect(reply).toStartWith("HTTP/1.1 200");
    socket.end();
  });

  test("a body over 1 MiB is refused with 413 and the error shape, with or without Content-Length", async () => {
    const daemon = await startDaemon();
    const big = "x".repeat(1024 * 1024 + 1);
    const declared = await daemon.api<{ error: { code: string } }>("/agents", {
      method: "POST",
      body: big,
    });
    expect(declared.status).toBe(413);
    expect(declared.body.error.code).toBe("payload_too_large");
    const chunked = await daemon.api<{ error: { code: string } }>("/agents", {
      method: "POST",
      body: new Blob([big]).stream(),
    });
    expect(chunked.status).toBe(413);
    expect(chunked.body.error.code).toBe("payload_too_large");
  });

  test("the OpenAPI document and its page are served without any network", async () => {
    const daemon = await startDaemon();
    const doc = await daemon.api<{ openapi: string; paths: Record<string, unknown> }>(
      "/openapi/json",
    );
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toContain("/health");
    const page = await fetch(`${daemon.url}/openapi`);
    const html = await page.text();
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(html).toContain("/openapi/json");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
  });

  test("with a token configured, requests without it get 401; /health and the OpenAPI document stay open", async () => {
    const daemon = await startDaemon({ env: { AGENTD_TOKEN: "t0ken" } });
    for (const open of ["/health", "/openapi", "/openapi/json"]) {
      expect((await daemon.api(open)).status).toBe(200);
    }
    const denied = await daemon.api<{ error: { code: string } }>("/agents");
    expect(denied.status).toBe(401);
    expect(denied.body.error.code).toBe("unauthorized");
    const allowed = await daemon.api("/agents", { headers: { authorization: "Bearer t0ken" } });
    expect(allowed.status).toBe(200);
  });

  test("with --token-file, the token is read from the file; one others can read stops the start", async () => {
    const dir = tempDir("agentd-token-file-");
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, "from-a-file\n", { mode: 0o600 });
    const daemon = await startDaemon({ args: ["--token-file", tokenFile] });
    expect((await daemon.api("/agents")).status).toBe(401);
    const allowed = await daemon.api("/agents", {
      headers: { authorization: "Bearer from-a-file" },
    });
    expect(allowed.status).toBe(200);
    await daemon.stop();

    chmodSync(tokenFile, 0o640);
    const proc = Bun.spawn(
      [process.execPath, MAIN, "daemon", "--port", "0", "--token-file", tokenFile],
      { stderr: "pipe", stdout: "pipe" },
    );
    expect(await proc.exited).toBe(2);
    expect(await new Response(proc.stderr).text()).toContain(`chmod 600 ${tokenFile}`);
  });

  test("an invalid setting stops the daemon from starting with exit 2 and a message", async () => {
    const proc = Bun.spawn([process.execPath, "src/main.ts", "daemon", "--port", "not-a-port"], {
      stderr: "pipe",
      stdout: "pipe",
    });
    expect(await proc.exited).toBe(2);
    expect(await new Response(proc.stderr).text()).toContain("--port (AGENTD_PORT) must be");
  });
});
