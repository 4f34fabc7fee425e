import { describe, expect, test } from "bun:test";
import { inProcessAgentd } from "../helpers/in-process.ts";

/** The dashboard's page and files, served in process (bundled from source on first request). */

const TOKEN = "dashboard-test-token";

async function get(world: ReturnType<typeof inProcessAgentd>, path: string, init?: RequestInit) {
  return await world.app.handle(new Request(`http://localhost${path}`, init));
}

/** The paths of the scripts, styles and icon the page names. */
function filesNamedBy(page: string): string[] {
  return [...page.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((match) => match[1] as string);
}

describe("the dashboard", () => {
  test("GET / is the page, which may load only its own files and may not be framed", async () => {
    const world = inProcessAgentd();
    const response = await get(world, "/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    const policy = response.headers.get("content-security-policy") ?? "";
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("connect-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    const page = await response.text();
    expect(page).toContain('<div id="app">');
    // Everything the page needs is served here: no CDN, no other host.
    expect(page).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
  });

  test("serves every file the page names, with its type, for browsers to keep", async () => {
    const world = inProcessAgentd();
    const files = filesNamedBy(await (await get(world, "/")).text());
    expect(files.some((path) => path.endsWith(".js"))).toBe(true);
    expect(files.some((path) => path.endsWith(".css"))).toBe(true);
    for (const path of files) {
      const response = await get(world, path);
      expect(response.status).toBe(200);
      const type = response.headers.get("content-type") ?? "";
      if (path.endsWith(".js")) expect(type).toStartWith("text/javascript");
      if (path.endsWith(".css")) expect(type).toStartWith("text/css");
      expect(response.headers.get("cache-control")).toContain("immutable");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
  });

  test("with a token, the page and its files load without it, and the API still needs it", async () => {
    const world = inProcessAgentd({ flags: { token: TOKEN } });
    const page = await get(world, "/");
    expect(page.status).toBe(200);
    for (const path of filesNamedBy(await page.text())) {
      expect((await get(world, path)).status).toBe(200);
    }
    for (const path of ["/agents", "/events", "/protocols", "/usage", "/no-such-file.js"]) {
      expect((await get(world, path)).status).toBe(401);
    }
    // Only reading the page is open: anything else at / needs the token.
    expect((await get(world, "/", { method: "POST" })).status).toBe(401);
    const withToken = await get(world, "/agents", {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(withToken.status).toBe(200);
  });

  test("a path the page does not name is a 404 like any unknown route", async () => {
    const world = inProcessAgentd();
    const response = await get(world, "/chunk-nosuchfile.js");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { code: "not_found", message: "no route for GET /chunk-nosuchfile.js" },
    });
  });

  test("the API's own routes beside it are unchanged", async () => {
    const world = inProcessAgentd();
    for (const path of ["/health", "/agents", "/usage", "/workspaces", "/protocols"]) {
      const response = await get(world, path);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toStartWith("application/json");
    }
  });

  test("is not in the OpenAPI document", async () => {
    const world = inProcessAgentd();
    const document = (await (await get(world, "/openapi/json")).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(document.paths)).not.toContain("/");
    expect(Object.keys(document.paths)).not.toContain("/{file}");
    expect(Object.keys(document.paths)).toContain("/protocols");
  });
});
