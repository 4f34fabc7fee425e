import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, readdirSync } from "node:fs";
import type { TSchema } from "@sinclair/typebox";
import fc from "fast-check";
import type { AgentView } from "../../src/api/schemas.ts";
import { inProcessAgentd } from "../helpers/in-process.ts";
import { bodyFor, type Hints, hostileString } from "../helpers/schema-arbitrary.ts";

/**
 * Requests generated from the routes' own schemas (what the app itself validates with), valid
 * and hostile, sent in process to agentd with agents in several states: no answer is a 5xx,
 * and a refused request (4xx) leaves nothing behind.
 */

// 10 000 requests on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(120_000);

const RUNS = 10_000;
const SEED = 20_261_121;
const PROMPT_CAP = 2000;

const world = inProcessAgentd({ flags: { maxPromptBytes: String(PROMPT_CAP) } });

const hints: Hints = {
  longString: PROMPT_CAP,
  fields: {
    command: fc.constant([process.execPath]),
    cwd: fc.constant(world.home),
    protocol: fc.constantFrom("scripted", "omni"),
    prompt: fc.constant("hello"),
    webhook: fc.constant("http://127.0.0.1:9/hook"),
    env: fc.constant({ KEY: "value" }),
    // Mostly left out (undefined is dropped from the JSON): a repository is a test of its own.
    worktree: fc.constant(undefined),
    // A wait is bounded: the agents here never answer on their own.
    timeout_ms: fc.nat({ max: 5 }),
    // Values their own schemas allow: hostile ones are the hostile-input table's; left to
    // chance here, they would make a creation with every field right too rare to reach.
    restart: fc.constantFrom("no", "on-failure", "always"),
    turn_timeout_s: fc.integer({ min: 1, max: 86_400 }),
  },
};

interface Route {
  method: string;
  path: string;
  body?: TSchema;
  query?: TSchema;
}

/** The app's routes with their schemas, as the app validates them. */
function routes(): Route[] {
  return world.app.routes.map((route) => {
    const hooks = route.hooks as { body?: TSchema; query?: TSchema };
    return { method: route.method, path: route.path, body: hooks.body, query: hooks.query };
  });
}

/** Agents the requests aim at: one in each state the test can make, and some that are not. */
async function fixtureAgents(): Promise<string[]> {
  // The directories a daemon makes at start.
  for (const dir of [world.config.logRoot, world.config.workspaceRoot, world.config.stateDir]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const create = async (body: object) => {
    const res = await world.request<AgentView>("POST", "/agents", {
      protocol: "scripted",
      command: [process.execPath],
      cwd: world.home,
      ...body,
    });
    if (res.status !== 201) throw new Error(`fixture: ${JSON.stringify(res.body)}`);
    return res.body.id;
  };
  const idle = await create({ name: "idle" });
  const running = await create({ name: "running" });
  await world.request("POST", `/agents/${running}/send`, { message: "go", turn_id: "t1" });
  world.agent.say(running, { type: "turn.started", turn_id: "t1" });
  const pending = await create({ name: "pending", start: false });
  const exited = await create({ name: "exited" });
  world.agent.exit(exited, 1);
  return [idle, running, pending, exited];
}

const idArbitrary = (ids: string[]) =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...ids), weight: 6 },
    { arbitrary: fc.constantFrom("nope", "t1", "..", "a%2Fb", "%E0%A4%A", "%00"), weight: 2 },
    { arbitrary: hostileString(hints).map(encodeURIComponent), weight: 1 },
  );

interface GeneratedRequest {
  method: string;
  url: string;
  body: string | undefined;
  contentType: string | undefined;
}

function requestFor(route: Route, ids: string[]): fc.Arbitrary<GeneratedRequest> {
  const params = route.path.match(/:[a-z_]+/g) ?? [];
  return fc
    .record({
      params: fc.tuple(...params.map(() => idArbitrary(ids))),
      query: route.query ? bodyFor(route.query, hints) : fc.constant(undefined),
      body: route.body ? bodyFor(route.body, hints) : fc.constant(undefined),
      raw: fc.oneof(
        { arbitrary: fc.constant(null), weight: 12 },
        { arbitrary: fc.constantFrom("{", "[1,", "nul", "{}x", '{"a":1}'), weight: 1 },
      ),
      contentType: fc.oneof(
        { arbitrary: fc.constant("application/json"), weight: 12 },
        {
          arbitrary: fc.constantFrom("text/plain", "application/x-www-form-urlencoded"),
          weight: 1,
        },
      ),
    })
    .map(({ params: values, query, body, raw, contentType }) => {
      let path = route.path;
      params.forEach((name, i) => {
        path = path.replace(name, values[i] as string);
      });
      const sendsBody = route.method !== "GET" && (body !== undefined || raw !== null);
      return {
        method: route.method,
        url: `http://localhost${path}${queryString(boundedWait(query))}`,
        body: sendsBody ? (raw ?? JSON.stringify(boundedWait(body))) : undefined,
        contentType: sendsBody ? contentType : undefined,
      };
    });
}

/** Waits for a turn end at once: nothing here answers turns. */
function boundedWait(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const fields = value as Record<string, unknown>;
  const waits = fields.wait === true || fields.wait === "1" || fields.wait === "true";
  if (!waits) return value;
  const timeout = fields.timeout_ms;
  const bounded = typeof timeout !== "number" && typeof timeout !== "string";
  return bounded || Number(timeout) > 5 ? { ...fields, timeout_ms: 0 } : value;
}

function queryString(query: unknown): string {
  if (typeof query !== "object" || query === null) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined)
      params.set(key, typeof value === "string" ? value : JSON.stringify(value));
  }
  return params.size > 0 ? `?${params}` : "";
}

/** What a refused request must not change. */
function state() {
  const count = (table: string) =>
    (world.db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  return JSON.stringify({
    agents: world.db.query("SELECT id, status, updated_at FROM agents ORDER BY id").all(),
    turns: count("turns"),
    messages: count("messages"),
    events: count("events"),
    files: readdirSync(world.home, { recursive: true, encoding: "utf8" })
      .filter((path) => !path.startsWith("agentd.db"))
      .sort(),
  });
}

async function answer(request: GeneratedRequest): Promise<{ status: number; text: string }> {
  const response = await world.app.handle(
    new Request(request.url, {
      method: request.method,
      body: request.body,
      headers: request.contentType ? { "content-type": request.contentType } : {},
    }),
  );
  // Streams (events, followed logs) would run on; their first answer is what counts.
  const streaming =
    response.status === 200 && !response.headers.get("content-type")?.includes("json");
  if (streaming) {
    void response.body?.cancel();
    return { status: response.status, text: "" };
  }
  return { status: response.status, text: await response.text() };
}

describe("generated requests", () => {
  test(`${RUNS} requests derived from the route schemas: no 5xx, and no refused one leaves anything behind`, async () => {
    const ids = await fixtureAgents();
    const all = routes();
    expect(all.length).toBeGreaterThan(15);
    const statuses = new Map<number, number>();
    const created: string[] = [];
    const property = fc.asyncProperty(
      fc.oneof(...all.map((route) => requestFor(route, ids))),
      async (request) => {
        const before = state();
        const { status, text } = await answer(request);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 500) throw new Error(`${request.method} ${request.url} -> ${status} ${text}`);
        if (status >= 400 && state() !== before) {
          throw new Error(`${request.method} ${request.url} -> ${status} left state behind`);
        }
        if (status === 201) created.push((JSON.parse(text) as AgentView).id);
      },
    );
    await fc.assert(property, { numRuns: RUNS, seed: SEED });

    // The generator reaches past validation as well as into it.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(RUNS / 20);
    expect(statuses.get(201) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(422) ?? 0).toBeGreaterThan(RUNS / 20);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(404) ?? 0).toBeGreaterThan(0);
    expect([...statuses.keys()].every((status) => status < 500)).toBe(true);
    console.log(
      `statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; agents created: ${created.length}`,
    );
  });
});
