import { expect, test } from "bun:test";
import { eventsAfter } from "../../src/store/events.ts";
import { inProcessAgentd } from "../helpers/in-process.ts";
import { waitFor } from "../helpers/wait.ts";

interface Health {
  ok: boolean;
  warnings: string[];
}

/** No page more than it has now: every write that needs the file to grow fails as on a full disk. */
function fillDatabase(db: ReturnType<typeof inProcessAgentd>["db"]): void {
  const pages = db.query<{ page_count: number }, []>("PRAGMA page_count").get()?.page_count;
  db.run(`PRAGMA max_page_count = ${pages}`);
}

test("a full database turns /health not ok naming the file, writes answer 503 saying so, nothing crashes, and it recovers by itself when space returns", async () => {
  const world = inProcessAgentd();
  const agent = await world.service.create({
    protocol: "scripted",
    command: [process.execPath],
    cwd: world.home,
  });
  fillDatabase(world.db);
  // The agent goes on talking: what cannot be stored is counted, not fatal.
  const detail = "d".repeat(2000);
  for (let i = 0; i < 200; i++) {
    world.agent.say(agent.id, { type: "tool", phase: "call", name: "noise", detail });
  }
  const health = await world.request<Health>("GET", "/health");
  expect(health.body.ok).toBe(false);
  expect(health.body.warnings).toHaveLength(1);
  expect(health.body.warnings[0]).toContain(`cannot write the database ${world.config.dbPath}`);
  expect(health.body.warnings[0]).toContain("database or disk is full");

  // Large enough to need new pages: small writes may still fit in the pages there are.
  const large = "m".repeat(100_000);
  const send = await world.request<{ error: { code: string; message: string } }>(
    "POST",
    `/agents/${agent.id}/send`,
    { message: large },
  );
  expect(send.status).toBe(503);
  expect(send.body.error.code).toBe("storage_unavailable");
  expect(send.body.error.message).toContain(world.config.dbPath);
  const create = await world.request("POST", "/agents", {
    prompt: large,
    protocol: "scripted",
    command: [process.execPath],
    cwd: world.home,
  });
  expect(create.status).toBe(503);
  // Reading still works.
  expect((await world.request("GET", `/agents/${agent.id}`)).status).toBe(200);

  world.db.run("PRAGMA max_page_count = 1073741823");
  await waitFor("the daemon to find the database writable again", async () => {
    return (await world.request<Health>("GET", "/health")).body.ok;
  });
  expect((await world.request("POST", `/agents/${agent.id}/send`, { message: "hi" })).status).toBe(
    200,
  );
  world.agent.say(agent.id, { type: "tool", phase: "call", name: "after", detail: null });
  const notices = eventsAfter(world.db, { agentId: agent.id, after: 0, limit: 100_000 }).filter(
    (event) => event.type === "log" && event.data.level === "error",
  );
  expect(notices).toHaveLength(1);
  expect(notices[0]?.data).toMatchObject({
    message: expect.stringMatching(
      /^\d+ event\(s\) of this agent since .* were not recorded: cannot write the database/,
    ),
  });
});
