import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Prices, UsageReport } from "../../src/api/cost.ts";
import type { CreateAgentInput } from "../../src/api/schemas.ts";
import { eventsAfter } from "../../src/store/events.ts";
import { inProcessAgentd } from "../helpers/in-process.ts";
import { tempDir } from "../helpers/tmp.ts";

type World = ReturnType<typeof inProcessAgentd>;

async function agentIn(world: World, input: Partial<CreateAgentInput> = {}) {
  const agent = await world.service.create({
    protocol: "scripted",
    command: [process.execPath],
    cwd: world.home,
    model: "house-model",
    ...input,
  });
  return agent.id;
}

/** One turn of the agent in which it reports the given calls. */
async function turn(
  world: World,
  id: string,
  calls: { model?: string; input: number; output: number; cost: number | null }[],
) {
  const { turn_id } = await world.service.send(id, { message: "go" });
  for (const call of calls) {
    world.agent.say(id, {
      type: "usage",
      input_tokens: call.input,
      output_tokens: call.output,
      cost_micro_usd: call.cost,
      ...(call.model === undefined ? {} : { model: call.model }),
    });
  }
  world.agent.say(id, { type: "turn.completed", turn_id, response: "ok" });
  return turn_id;
}

const CODEX_PRICE = { input_usd_per_mtok: 1.25, output_usd_per_mtok: 10 };
const PRICES: Prices = {
  "gpt-5-codex": CODEX_PRICE,
  "house-model": { input_usd_per_mtok: 3, output_usd_per_mtok: 15 },
};

describe("GET /usage", () => {
  test("totals tokens and cost by model, agent and protocol; unknown costs are counted apart", async () => {
    const world = inProcessAgentd();
    const one = await agentIn(world);
    const two = await agentIn(world);
    await turn(world, one, [
      { model: "opus", input: 100, output: 10, cost: 5000 },
      { model: "haiku", input: 10, output: 1, cost: 100 },
    ]);
    await turn(world, one, [{ model: "opus", input: 50, output: 5, cost: null }]);
    await turn(world, two, [{ model: "opus", input: 1, output: 1, cost: 7 }]);

    const byModel = await world.request<UsageReport>("GET", "/usage?group_by=model");
    expect(byModel.status).toBe(200);
    expect(byModel.body.groups).toEqual([
      {
        key: "opus",
        calls: 3,
        turns: 3,
        input_tokens: 151,
        output_tokens: 16,
        cost_micro_usd: 5007,
        unknown_cost_calls: 1,
        unknown_cost_turns: 1,
      },
      {
        key: "haiku",
        calls: 1,
        turns: 1,
        input_tokens: 10,
        output_tokens: 1,
        cost_micro_usd: 100,
        unknown_cost_calls: 0,
        unknown_cost_turns: 0,
      },
    ]);
    expect(byModel.body.total).toMatchObject({ calls: 4, turns: 3, cost_micro_usd: 5107 });

    const byAgent = await world.request<UsageReport>("GET", "/usage?group_by=agent");
    expect(byAgent.body.groups.map((g) => [g.key, g.cost_micro_usd, g.unknown_cost_turns])).toEqual(
      [
        [one, 5100, 1],
        [two, 7, 0],
      ],
    );
    const byProtocol = await world.request<UsageReport>("GET", "/usage?group_by=protocol");
    expect(byProtocol.body.groups.map((g) => [g.key, g.calls])).toEqual([["scripted", 4]]);
    const byDay = await world.request<UsageReport>("GET", "/usage?group_by=day");
    expect(byDay.body.groups.map((g) => g.key)).toEqual([new Date().toISOString().slice(0, 10)]);
  });

  test("a turn knows the model of its calls; a call that names none is the agent's model", async () => {
    const world = inProcessAgentd();
    const id = await agentIn(world);
    const named = await turn(world, id, [{ model: "opus", input: 1, output: 1, cost: 1 }]);
    const unnamed = await turn(world, id, [{ input: 1, output: 1, cost: 1 }]);
    expect(world.service.turn(id, named).model).toBe("opus");
    expect(world.service.turn(id, unnamed).model).toBe("house-model");
    const usage = eventsAfter(world.db, { agentId: id, after: 0, limit: 100 }).filter(
      (event) => event.type === "usage",
    );
    expect(usage.map((event) => (event.data as { model: string }).model)).toEqual([
      "opus",
      "house-model",
    ]);
  });

  test("since and until take ISO times or durations back from now; a removed agent's usage still counts", async () => {
    const world = inProcessAgentd();
    const id = await agentIn(world);
    await turn(world, id, [{ model: "opus", input: 1, output: 1, cost: 10 }]);
    await world.service.remove(id);
    const recent = await world.request<UsageReport>("GET", "/usage?since=1h");
    expect(recent.body.total.cost_micro_usd).toBe(10);
    expect(recent.body.groups.map((g) => g.key)).toEqual([id]);
    expect(Date.parse(recent.body.since ?? "")).toBeLessThan(Date.now());
    const old = await world.request<UsageReport>(
      "GET",
      "/usage?since=2020-01-01&until=2020-02-01T00:00:00Z",
    );
    expect(old.body).toMatchObject({
      since: "2020-01-01T00:00:00.000Z",
      until: "2020-02-01T00:00:00.000Z",
      groups: [],
      total: { calls: 0, cost_micro_usd: null },
    });
  });

  test("a time that is neither, an empty window or an unknown grouping is refused", async () => {
    const world = inProcessAgentd();
    const bad = await world.request<{ error: { message: string } }>("GET", "/usage?since=lately");
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("7d");
    const backwards = await world.request("GET", "/usage?since=2026-02-01&until=2026-01-01");
    expect(backwards.status).toBe(400);
    expect((await world.request("GET", "/usage?group_by=colour")).status).toBe(422);
  });
});

describe("prices", () => {
  test("a call of unknown cost is priced from its model's price; a model with no price stays unknown", async () => {
    const world = inProcessAgentd();
    const put = await world.request<Prices>("PUT", "/prices", PRICES);
    expect(put.status).toBe(200);
    expect((await world.request<Prices>("GET", "/prices")).body).toEqual(PRICES);
    const id = await agentIn(world, { model: "gpt-5-codex" });
    const priced = await turn(world, id, [{ input: 1_000_000, output: 100_000, cost: null }]);
    // 1.25 USD for the input, 1 USD for the output.
    expect(world.service.turn(id, priced).cost_micro_usd).toBe(2_250_000);
    const unpriced = await turn(world, id, [
      { model: "mystery", input: 10, output: 10, cost: null },
    ]);
    expect(world.service.turn(id, unpriced).cost_micro_usd).toBeNull();
    const reported = await turn(world, id, [{ input: 1_000_000, output: 0, cost: 42 }]);
    expect(world.service.turn(id, reported).cost_micro_usd).toBe(42);
    expect(world.service.get(id).cost_micro_usd).toBe(2_250_042);
    const usage = await world.request<UsageReport>("GET", "/usage?group_by=model");
    expect(usage.body.groups.map((g) => [g.key, g.cost_micro_usd, g.unknown_cost_calls])).toEqual([
      ["gpt-5-codex", 2_250_042, 0],
      ["mystery", null, 1],
    ]);
  });

  test("PUT /prices replaces the whole table and is kept across restarts; a bad table changes nothing", async () => {
    const world = inProcessAgentd();
    await world.request("PUT", "/prices", PRICES);
    const only = { "gpt-5-codex": CODEX_PRICE };
    expect((await world.request<Prices>("PUT", "/prices", only)).body).toEqual(only);
    const negative = await world.request("PUT", "/prices", {
      x: { input_usd_per_mtok: -1, output_usd_per_mtok: 1 },
    });
    expect(negative.status).toBe(422);
    const missing = await world.request("PUT", "/prices", { x: { input_usd_per_mtok: 1 } });
    expect(missing.status).toBe(422);
    expect((await world.request<Prices>("GET", "/prices")).body).toEqual(only);

    const again = inProcessAgentd({ flags: { db: world.config.dbPath } });
    expect((await again.request<Prices>("GET", "/prices")).body).toEqual(only);
  });

  test("a --prices file replaces the stored table at start; a file that is not a table stops the start", async () => {
    const world = inProcessAgentd();
    await world.request("PUT", "/prices", PRICES);
    const file = join(tempDir(), "prices.json");
    writeFileSync(file, JSON.stringify({ "gpt-5": CODEX_PRICE }));
    const started = inProcessAgentd({ flags: { db: world.config.dbPath, prices: file } });
    expect(Object.keys((await started.request<Prices>("GET", "/prices")).body)).toEqual(["gpt-5"]);

    writeFileSync(file, JSON.stringify({ "gpt-5": { input_usd_per_mtok: "cheap" } }));
    expect(() => inProcessAgentd({ flags: { prices: file } })).toThrow(
      new RegExp(`price file ${file} is not a price table at /gpt-5`),
    );
    writeFileSync(file, "{ not json");
    expect(() => inProcessAgentd({ flags: { prices: file } })).toThrow(
      /cannot read the price file/,
    );
  });
});
