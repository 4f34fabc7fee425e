import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { AgentView } from "../../src/api/schemas.ts";
import { Api, ApiError } from "../../src/dashboard/api.ts";
import { REPO_ROOT, startDaemon, stopAllDaemons } from "../helpers/daemon.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

/** The dashboard's client reads a list the daemon answers a page at a time, page after page. */

const servers: { stop(closeActive?: boolean): void }[] = [];

afterAll(async () => {
  for (const server of servers) server.stop(true);
  await stopAllDaemons();
});

const api = (base: string) => new Api({ base, token: () => null, onUnauthorized: () => undefined });

describe("Api.all", () => {
  test("follows the Link headers of the daemon's pages, keeping the first page's query", async () => {
    const daemon = await startDaemon();
    const command = [process.execPath, `${REPO_ROOT}/test/fixtures/fake-agent.ts`];
    for (let i = 0; i < 5; i++) {
      const res = await daemon.api("/agents", {
        method: "POST",
        body: JSON.stringify({ name: `p${i}`, command, start: false }),
      });
      expect(res.status).toBe(201);
    }
    const everyOne = (await daemon.api<AgentView[]>("/agents")).body;
    expect(await api(daemon.url).all<AgentView>("/agents?limit=2")).toEqual(everyOne);
    expect(await api(daemon.url).all<AgentView>("/agents?limit=2&status=idle")).toEqual([]);
  });

  test("never follows a next page to another server, nor to the same page again", async () => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) => {
        const url = new URL(request.url);
        const next =
          url.pathname === "/away" ? "http://127.0.0.2:9/agents" : `${url.pathname}${url.search}`;
        return new Response("[]", { headers: { link: `<${next}>; rel="next"` } });
      },
    });
    servers.push(server);
    const client = api(`http://127.0.0.1:${server.port}`);
    for (const path of ["/away", "/agents?limit=1"]) {
      const error = await client.all(path).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).message).toContain("not following it");
    }
  });
});
