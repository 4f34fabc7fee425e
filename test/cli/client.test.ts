import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { AgentView } from "../../src/api/schemas.ts";
import { DaemonClient } from "../../src/cli/client.ts";
import { CommandFailure } from "../../src/cli/command.ts";
import { REPO_ROOT, startDaemon, stopAllDaemons } from "../helpers/daemon.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

/** The CLI's client reads a list the daemon answers a page at a time, page after page. */

const servers: { stop(closeActive?: boolean): void }[] = [];

afterAll(async () => {
  for (const server of servers) server.stop(true);
  await stopAllDaemons();
});

/** A server answering every request with a one-item list and this Link header. */
function linking(link: (url: URL) => string) {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request) =>
      new Response(JSON.stringify([{ id: "x" }]), {
        headers: { "content-type": "application/json", link: link(new URL(request.url)) },
      }),
  });
  servers.push(server);
  return new DaemonClient(`http://127.0.0.1:${server.port}`, "secret");
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CommandFailure);
    return (error as Error).message;
  }
  throw new Error("expected a failure");
}

describe("DaemonClient.all", () => {
  test("follows the Link headers of a daemon's pages, with the query of the first", async () => {
    const daemon = await startDaemon();
    const command = [process.execPath, `${REPO_ROOT}/test/fixtures/fake-agent.ts`];
    const pending: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await daemon.api<AgentView>("/agents", {
        method: "POST",
        body: JSON.stringify({ name: `p${i}`, command, start: false }),
      });
      pending.push(res.body.id);
    }
    const client = new DaemonClient(daemon.url, null);
    const all = await client.all<AgentView>("/agents", { query: { limit: 2 } });
    expect(all.map((agent) => agent.id).sort()).toEqual([...pending].sort());
    expect(all).toEqual(await client.json<AgentView[]>("GET", "/agents"));
    const none = await client.all<AgentView>("/agents", { query: { limit: 2, status: "idle" } });
    expect(none).toEqual([]);
  });

  test("never follows a next page to another server, nor to the same page again", async () => {
    const elsewhere = linking(() => '<http://127.0.0.2:9/agents?cursor=a>; rel="next"');
    expect(await failure(elsewhere.all("/agents"))).toContain(
      "named http://127.0.0.2:9/agents?cursor=a as the next page",
    );
    const again = linking((url) => `<${url.pathname}${url.search}>; rel="next"`);
    expect(await failure(again.all("/agents", { query: { limit: 1 } }))).toContain(
      "not following it",
    );
  });
});
