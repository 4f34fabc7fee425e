import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { DEFAULT_AGENT_PAGE, nextPage } from "../../src/api/paging.ts";
import { AgentSchema, type AgentView, type ErrorBody } from "../../src/api/schemas.ts";
import { readAnswer } from "../helpers/http.ts";
import { inProcessAgentd } from "../helpers/in-process.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

/** GET /agents a page at a time: order, limit, cursors, filters kept, and bad input. */

type World = ReturnType<typeof inProcessAgentd>;

async function create(world: World, name: string, start = false): Promise<AgentView> {
  const res = await world.request<AgentView>("POST", "/agents", {
    name,
    protocol: "scripted",
    command: [process.execPath],
    cwd: world.home,
    start,
  });
  expect(res.status).toBe(201);
  return res.body;
}

async function createMany(world: World, count: number, prefix = "a"): Promise<AgentView[]> {
  const agents: AgentView[] = [];
  for (let i = 0; i < count; i++) agents.push(await create(world, `${prefix}${i}`));
  return agents;
}

/** One page: its agents and the next page's target (null on the last). */
async function page(world: World, path: string) {
  const response = await world.app.handle(new Request(`http://localhost${path}`));
  expect(response.status).toBe(200);
  const next = nextPage(response.headers.get("link"));
  const agents = (await response.json()) as AgentView[];
  return { agents, next, contentType: response.headers.get("content-type") };
}

/** Every page from `path` on, following the Link headers. */
async function allPages(world: World, path: string) {
  const pages: AgentView[][] = [];
  let target: string | null = path;
  while (target !== null) {
    const answer: Awaited<ReturnType<typeof page>> = await page(world, target);
    pages.push(answer.agents);
    target = answer.next;
  }
  return pages;
}

const ids = (agents: readonly AgentView[]) => agents.map((agent) => agent.id);

const byBytes = (a: string, b: string) => Number(a > b) - Number(a < b);

/** The list order: by creation, then by id. */
function listOrder(agents: readonly AgentView[]): string[] {
  return ids(
    [...agents].sort((a, b) =>
      a.created_at === b.created_at ? byBytes(a.id, b.id) : byBytes(a.created_at, b.created_at),
    ),
  );
}

describe("GET /agents, a page at a time", () => {
  test("pages follow each other oldest first, `limit` agents each, the Link absent on the last", async () => {
    const world = inProcessAgentd();
    const agents = await createMany(world, 5);
    const pages = await allPages(world, "/agents?limit=2");
    expect(pages.map((agents) => agents.length)).toEqual([2, 2, 1]);
    expect(pages.flat().map((agent) => agent.id)).toEqual(listOrder(agents));
    // Exactly a page's worth left: that page is the last, with no Link.
    expect((await allPages(world, "/agents?limit=5")).map((agents) => agents.length)).toEqual([5]);
  });

  test(`without limit a page holds ${DEFAULT_AGENT_PAGE} agents`, async () => {
    const world = inProcessAgentd();
    const agents = await createMany(world, DEFAULT_AGENT_PAGE + 1);
    const first = await page(world, "/agents");
    expect(first.agents).toHaveLength(DEFAULT_AGENT_PAGE);
    expect(first.next).toMatch(/^\/agents\?cursor=[A-Za-z0-9_-]+$/);
    const second = await page(world, first.next as string);
    expect(ids(second.agents)).toEqual(listOrder(agents).slice(DEFAULT_AGENT_PAGE));
    expect(second.next).toBeNull();
  });

  test("agents created or removed between pages: none seen twice, none still there skipped, new ones last", async () => {
    const world = inProcessAgentd();
    const agents = await createMany(world, 6);
    const order = listOrder(agents);
    const first = await page(world, "/agents?limit=2");
    expect(ids(first.agents)).toEqual(order.slice(0, 2));
    // The cursor's own agent and the one that would have come next are removed.
    for (const id of [order[1], order[2]]) {
      expect((await world.request("DELETE", `/agents/${id}`)).status).toBe(200);
    }
    const added = await create(world, "late");
    const rest = await allPages(world, first.next as string);
    expect(rest.flat().map((agent) => agent.id)).toEqual([...order.slice(3), added.id]);
  });

  test("the next page keeps the request's filters and limit", async () => {
    const world = inProcessAgentd();
    const pending = await createMany(world, 3, "p");
    await create(world, "running", true);
    const first = await page(world, "/agents?status=pending&mode=run&limit=2");
    expect(first.next).toMatch(/^\/agents\?status=pending&mode=run&limit=2&cursor=[\w-]+$/);
    const pages = await allPages(world, "/agents?status=pending&mode=run&limit=2");
    expect(pages.map(ids)).toEqual([listOrder(pending).slice(0, 2), listOrder(pending).slice(2)]);
    expect(pages.flat().every((agent) => agent.status === "pending")).toBe(true);
  });

  test("pages show agents as they are now: changed records and turn counts, in the list and one by one", async () => {
    const world = inProcessAgentd();
    const [agent] = await createMany(world, 1);
    const id = (agent as AgentView).id;
    expect((await page(world, "/agents")).agents[0]?.model).toBe((agent as AgentView).model);
    expect((await world.request("PATCH", `/agents/${id}`, { model: "other" })).status).toBe(200);
    expect((await world.request("POST", `/agents/${id}/start`)).status).toBe(200);
    await world.request("POST", `/agents/${id}/send`, { message: "x", turn_id: "t1" });
    const listed = (await page(world, "/agents")).agents[0] as AgentView;
    const one = (await world.request<AgentView>("GET", `/agents/${id}`)).body;
    expect(listed).toEqual(one);
    expect(listed.model).toBe("other");
    expect(listed.status).toBe("running");
    expect(listed.turn_counts.queued + listed.turn_counts.running).toBe(1);
  });

  test("answers are JSON arrays of agents as the schema describes them", async () => {
    const world = inProcessAgentd();
    await createMany(world, 2);
    const answer = await page(world, "/agents");
    expect(answer.contentType).toBe("application/json;charset=utf-8");
    for (const agent of answer.agents)
      expect(Value.Errors(AgentSchema, agent).First()).toBeUndefined();
    const one = await world.app.handle(
      new Request(`http://localhost/agents/${answer.agents[0]?.id}`),
    );
    expect(one.headers.get("content-type")).toBe("application/json;charset=utf-8");
    expect(await one.json()).toEqual(answer.agents[0] as AgentView);
  });

  test("a cursor this daemon did not hand out is a 400 saying where to get one", async () => {
    const world = inProcessAgentd();
    await createMany(world, 1);
    const notJson = Buffer.from("not json").toString("base64url");
    const wrongShape = Buffer.from(JSON.stringify({ id: "x" })).toString("base64url");
    for (const cursor of ["%20", "@@", notJson, wrongShape]) {
      const res = await world.request<ErrorBody>("GET", `/agents?cursor=${cursor}`);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_cursor");
      expect(res.body.error.message).toContain("copy it from the Link header");
    }
  });

  test("a limit that is not a whole number from 1 to 1000 is refused naming the range", async () => {
    const world = inProcessAgentd();
    for (const limit of ["0", "1001", "ten", "1.5", ""]) {
      const res = await world.request<ErrorBody>("GET", `/agents?limit=${limit}`);
      expect(res.status).toBe(422);
      expect(res.body.error.message).toContain("query.limit must be a whole number from 1 to 1000");
    }
  });

  test("the OpenAPI document describes limit, cursor and the Link header", async () => {
    const world = inProcessAgentd();
    const doc = await readAnswer<{
      paths: Record<string, Record<string, Record<string, unknown>>>;
    }>(await world.app.handle(new Request("http://localhost/openapi/json")));
    const list = doc.body.paths["/agents/"]?.get ?? doc.body.paths["/agents"]?.get;
    const text = JSON.stringify(list);
    expect(text).toContain('"name":"limit"');
    expect(text).toContain('"name":"cursor"');
    expect(text).toContain('"Link"');
    expect(text).toContain(`${DEFAULT_AGENT_PAGE} unless limit says otherwise`);
  });
});
