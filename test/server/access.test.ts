import { describe, expect, test } from "bun:test";
import type { ErrorBody } from "../../src/api/schemas.ts";
import { inProcessAgentd } from "../helpers/in-process.ts";

/** Who may use the API: the token, the Host a request names, the web page it comes from. */

const TOKEN = "s3cret-token";

describe("the bearer token", () => {
  const world = inProcessAgentd({ flags: { token: TOKEN } });

  test("every route needs it, except GET /health and the OpenAPI document and page", async () => {
    for (const path of ["/health", "/openapi", "/openapi/json"]) {
      expect((await world.request("GET", path)).status).toBe(200);
    }
    for (const [method, path] of [
      ["GET", "/agents"],
      ["POST", "/agents"],
      ["GET", "/agents/x"],
      ["PATCH", "/agents/x"],
      ["DELETE", "/agents/x"],
      ["POST", "/agents/x/send"],
      ["POST", "/agents/x/stop"],
      ["GET", "/agents/x/logs"],
      ["GET", "/events"],
      ["GET", "/workspaces"],
      ["POST", "/workspaces/gc"],
      ["POST", "/health"],
      ["GET", "/no/such/route"],
    ] as const) {
      const res = await world.request<ErrorBody>(method, path);
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 401`);
      expect(res.body.error.code).toBe("unauthorized");
    }
  });

  test("a missing token and a wrong one are 401 JSON saying how to send it, with WWW-Authenticate", async () => {
    const missing = await world.app.handle(new Request("http://localhost/agents"));
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toStartWith("Bearer");
    expect(((await missing.json()) as ErrorBody).error.message).toContain(
      "Authorization: Bearer <token>",
    );
    for (const header of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, "Bearer ", TOKEN]) {
      const res = await world.request<ErrorBody>("GET", "/agents", undefined, {
        authorization: header,
      });
      expect(res.status).toBe(401);
    }
  });

  test("the right token, under any case of the scheme, is let in", async () => {
    for (const header of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`]) {
      const res = await world.request("GET", "/agents", undefined, { authorization: header });
      expect(res.status).toBe(200);
    }
  });
});

describe("the Host a request names (DNS rebinding)", () => {
  test("on a loopback address only loopback names are answered; others are 403 saying what to do", async () => {
    const world = inProcessAgentd();
    for (const host of [
      "localhost:8400",
      "127.0.0.1:8400",
      "[::1]:8400",
      "LOCALHOST",
      "a.localhost",
    ]) {
      const res = await world.request("GET", "/health", undefined, { host });
      expect(`${host} ${res.status}`).toBe(`${host} 200`);
    }
    for (const host of [
      "evil.example",
      "evil.example:8400",
      "127.0.0.1.evil.example",
      "10.0.0.5",
    ]) {
      const res = await world.request<ErrorBody>("GET", "/health", undefined, { host });
      expect(`${host} ${res.status}`).toBe(`${host} 403`);
      expect(res.body.error.code).toBe("host_not_allowed");
      expect(res.body.error.message).toContain("--allowed-hosts");
    }
  });

  test("--allowed-hosts adds names", async () => {
    const world = inProcessAgentd({ flags: { allowedHosts: "agents.internal, Box.Example" } });
    for (const host of ["agents.internal:8400", "box.example", "localhost"]) {
      expect((await world.request("GET", "/health", undefined, { host })).status).toBe(200);
    }
    expect((await world.request("GET", "/health", undefined, { host: "other" })).status).toBe(403);
  });

  test("on another address without --allowed-hosts any Host is answered (the token guards it)", async () => {
    const world = inProcessAgentd({ flags: { host: "0.0.0.0", token: TOKEN } });
    const res = await world.request("GET", "/health", undefined, { host: "box.example:8400" });
    expect(res.status).toBe(200);
  });
});

describe("web pages (Origin and CORS)", () => {
  test("without --allowed-origins there are no CORS headers, and requests from other origins are 403", async () => {
    const world = inProcessAgentd();
    const plain = await world.app.handle(new Request("http://localhost/health"));
    expect([...plain.headers.keys()].filter((key) => key.startsWith("access-control"))).toEqual([]);
    // A form post from a page elsewhere (no preflight): refused before anything happens.
    const res = await world.app.handle(
      new Request("http://localhost/agents", {
        method: "POST",
        headers: { origin: "https://evil.example", "content-type": "text/plain" },
        body: JSON.stringify({ command: ["/bin/sh"] }),
      }),
    );
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(((await res.json()) as ErrorBody).error.message).toContain("--allowed-origins");
    expect((await world.request<unknown[]>("GET", "/agents")).body).toEqual([]);
  });

  test("a page of the daemon's own origin is let in", async () => {
    const world = inProcessAgentd();
    const res = await world.request("GET", "/agents", undefined, {
      host: "127.0.0.1:8400",
      origin: "http://127.0.0.1:8400",
    });
    expect(res.status).toBe(200);
  });

  test("an allowed origin gets CORS headers on answers and errors, and preflights are answered without a token", async () => {
    const origin = "https://dash.example";
    const world = inProcessAgentd({ flags: { allowedOrigins: origin, token: TOKEN } });
    const preflight = await world.app.handle(
      new Request("http://localhost/agents", {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
        },
      }),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(preflight.headers.get("vary")).toBe("Origin");

    const allowed = await world.app.handle(
      new Request("http://localhost/agents", {
        headers: { origin, authorization: `Bearer ${TOKEN}` },
      }),
    );
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(origin);
    const denied = await world.app.handle(
      new Request("http://localhost/agents", { headers: { origin } }),
    );
    expect(denied.status).toBe(401);
    expect(denied.headers.get("access-control-allow-origin")).toBe(origin);

    const other = await world.app.handle(
      new Request("http://localhost/agents", {
        method: "OPTIONS",
        headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
      }),
    );
    expect(other.status).toBe(403);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("request bodies", () => {
  test("a body that is not declared JSON is 415, whatever it holds, and nothing is created", async () => {
    const world = inProcessAgentd();
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      null,
    ]) {
      const res = await world.app.handle(
        new Request("http://localhost/agents", {
          method: "POST",
          headers: type === null ? {} : { "content-type": type },
          body: JSON.stringify({ command: [process.execPath], cwd: world.home }),
        }),
      );
      expect(`${type} ${res.status}`).toBe(`${type} 415`);
      expect(((await res.json()) as ErrorBody).error.message).toContain(
        "Content-Type: application/json",
      );
    }
    expect((await world.request<unknown[]>("GET", "/agents")).body).toEqual([]);
  });
});
