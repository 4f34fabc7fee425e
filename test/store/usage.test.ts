import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "../../src/store/db.ts";
import { MIGRATIONS } from "../../src/store/migrations.ts";
import { insertUsage, insertUsages, usageByGroup, usageTotal } from "../../src/store/usage.ts";
import { tempDir } from "../helpers/tmp.ts";

const LEDGER = MIGRATIONS.findIndex((migration) => migration.includes("CREATE TABLE usage"));

const everything = { since: null, until: null };

function call(turn: string | null, model: string, cost: number | null, agent = "a-1") {
  return {
    agent_id: agent,
    turn_id: turn,
    protocol: "omni",
    model,
    input_tokens: 10,
    output_tokens: 1,
    cost_micro_usd: cost,
  };
}

describe("the usage ledger", () => {
  test("usage recorded on turns before the ledger existed is carried into it, under its agent's model", () => {
    const path = join(tempDir(), "agentd.db");
    const old = new Database(path, { create: true, strict: true });
    for (const migration of MIGRATIONS.slice(0, LEDGER)) old.run(migration);
    old.run(`PRAGMA user_version = ${LEDGER}`);
    old.run(
      `INSERT INTO agents (id, name, mode, protocol, status, provider, model, cwd, created_at, updated_at)
       VALUES ('old', 'old', 'run', 'omni', 'stopped', 'p', 'sonnet', '/', 't0', 't0')`,
    );
    const turn = (id: string, tokens: number, cost: string, completed: string) =>
      old.run(
        `INSERT INTO turns (agent_id, id, position, input, status, input_tokens, output_tokens,
                            cost_micro_usd, created_at, completed_at)
         VALUES ('old', '${id}', 1, 'x', 'completed', ${tokens}, 1, ${cost}, '2026-01-01T00:00:00.000Z', '${completed}')`,
      );
    turn("t1", 100, "2000", "2026-01-01T10:00:00.000Z");
    turn("t2", 50, "NULL", "2026-01-02T10:00:00.000Z");
    turn("t3", 0, "NULL", "2026-01-02T11:00:00.000Z");
    old.run("UPDATE turns SET output_tokens = 0 WHERE id = 't3'");
    old.close();

    const db = openDatabase(path);
    expect(usageByGroup(db, "day", everything)).toEqual([
      {
        key: "2026-01-01",
        calls: 1,
        turns: 1,
        input_tokens: 100,
        output_tokens: 1,
        cost_micro_usd: 2000,
        unknown_cost_calls: 0,
        unknown_cost_turns: 0,
      },
      {
        key: "2026-01-02",
        calls: 1,
        turns: 1,
        input_tokens: 50,
        output_tokens: 1,
        cost_micro_usd: null,
        unknown_cost_calls: 1,
        unknown_cost_turns: 1,
      },
    ]);
    expect(usageByGroup(db, "model", everything).map((row) => row.key)).toEqual(["sonnet"]);
    db.close();
  });

  test("an unknown cost is counted apart, never as zero; turns are counted once however many calls", () => {
    const db = openDatabase(join(tempDir(), "agentd.db"));
    insertUsage(db, call("t1", "m1", 100));
    insertUsage(db, call("t1", "m1", null));
    insertUsage(db, call("t2", "m1", 200));
    insertUsage(db, call(null, "m2", null));
    insertUsage(db, call("t1", "m2", null, "a-2"));
    const byModel = usageByGroup(db, "model", everything);
    expect(byModel).toEqual([
      {
        key: "m1",
        calls: 3,
        turns: 2,
        input_tokens: 30,
        output_tokens: 3,
        cost_micro_usd: 300,
        unknown_cost_calls: 1,
        unknown_cost_turns: 1,
      },
      {
        key: "m2",
        calls: 2,
        turns: 1,
        input_tokens: 20,
        output_tokens: 2,
        cost_micro_usd: null,
        unknown_cost_calls: 2,
        unknown_cost_turns: 1,
      },
    ]);
    expect(usageTotal(db, everything)).toMatchObject({
      calls: 5,
      turns: 3,
      cost_micro_usd: 300,
      unknown_cost_turns: 2,
    });
    expect(usageByGroup(db, "agent", everything).map((row) => row.key)).toEqual(["a-1", "a-2"]);
    db.close();
  });

  test("calls written together share a row per turn, model and known cost, and every call still counts", () => {
    const db = openDatabase(join(tempDir(), "agentd.db"));
    const at = (entry: ReturnType<typeof call>) => ({
      ...entry,
      created_at: "2026-01-01T00:00:00.000Z",
    });
    insertUsages(db, [
      at(call("t1", "m1", 100)),
      at(call("t1", "m1", 50)),
      at(call("t1", "m1", null)),
      at(call("t1", "m1", null)),
      at(call("t2", "m1", 1)),
    ]);
    const rows = db.query<{ n: number }, []>("SELECT count(*) AS n FROM usage").get()?.n;
    expect(rows).toBe(3);
    expect(usageTotal(db, everything)).toEqual({
      calls: 5,
      turns: 2,
      input_tokens: 50,
      output_tokens: 5,
      cost_micro_usd: 151,
      unknown_cost_calls: 2,
      unknown_cost_turns: 1,
    });
    db.close();
  });

  test("a window holds what was recorded from since (inclusive) until until (exclusive)", () => {
    const db = openDatabase(join(tempDir(), "agentd.db"));
    insertUsage(db, call("t1", "m1", 100));
    const recorded = db.query<{ at: string }, []>("SELECT created_at AS at FROM usage").get()?.at;
    if (recorded === undefined) throw new Error("no usage recorded");
    expect(usageTotal(db, { since: recorded, until: null }).calls).toBe(1);
    expect(usageTotal(db, { since: null, until: recorded }).calls).toBe(0);
    expect(
      usageTotal(db, { since: "2000-01-01T00:00:00.000Z", until: "2000-01-02T00:00:00.000Z" }),
    ).toEqual({
      calls: 0,
      turns: 0,
      input_tokens: 0,
      output_tokens: 0,
      cost_micro_usd: null,
      unknown_cost_calls: 0,
      unknown_cost_turns: 0,
    });
    db.close();
  });
});
