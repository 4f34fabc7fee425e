import { Database } from "bun:sqlite";
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { getAgent, insertAgent, updateAgent } from "../../src/store/agents.ts";
import { openDatabase, SCHEMA_VERSION, schemaVersion } from "../../src/store/db.ts";
import { appendEvent, eventsAfter } from "../../src/store/events.ts";
import { REPO_ROOT } from "../helpers/daemon.ts";
import { sampleAgent } from "../helpers/store.ts";
import { tempDir } from "../helpers/tmp.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

describe("database", () => {
  test("a fresh database reaches the latest schema version with WAL and foreign keys on", () => {
    const db = openDatabase(join(tempDir(), "nested/dir/agentd.db"));
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe(
      "wal",
    );
    expect(db.query<{ foreign_keys: number }, []>("PRAGMA foreign_keys").get()?.foreign_keys).toBe(
      1,
    );
    const tables = db
      .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
      .all()
      .map((row) => row.name);
    for (const table of [
      "agents",
      "turns",
      "messages",
      "event_batches",
      "events",
      "workspaces",
      "webhook_deliveries",
    ]) {
      expect(tables).toContain(table);
    }
    db.close();
  });

  test("reopening an up-to-date database changes nothing and keeps the data", () => {
    const path = join(tempDir(), "agentd.db");
    const first = openDatabase(path);
    insertAgent(first, sampleAgent("a-1"));
    first.close();
    const second = openDatabase(path);
    expect(schemaVersion(second)).toBe(SCHEMA_VERSION);
    expect(getAgent(second, "a-1")?.extra_args).toEqual(["a b", "*"]);
    second.close();
  });

  test("a database written by a newer agentd is refused with a clear message", () => {
    const path = join(tempDir(), "agentd.db");
    const raw = new Database(path, { create: true });
    raw.run(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`);
    raw.close();
    expect(() => openDatabase(path)).toThrow(/newer agentd/);
  });

  test("agents round-trip with JSON fields, and updates touch updated_at", async () => {
    const db = openDatabase(join(tempDir(), "agentd.db"));
    const created = insertAgent(db, sampleAgent("a-2"));
    expect(created.command).toEqual(["/bin/agent", "--x"]);
    expect(created.env).toEqual({ K: "v" });
    expect(created.turn_envelope).toBe(true);
    expect(created.cost_micro_usd).toBeNull();
    await Bun.sleep(2);
    const updated = updateAgent(db, "a-2", { status: "idle", summary: "done" });
    expect(updated?.status).toBe("idle");
    expect(updated?.summary).toBe("done");
    expect(updated && updated.updated_at > created.updated_at).toBe(true);
    db.close();
  });

  test("event seq numbers only grow", () => {
    const db = openDatabase(join(tempDir(), "agentd.db"));
    insertAgent(db, sampleAgent("a-3"));
    const seqs = [1, 2, 3].map((n) => appendEvent(db, "a-3", "restart", { restarts: n }).seq);
    expect(seqs[1]).toBeGreaterThan(seqs[0] as number);
    expect(seqs[2]).toBeGreaterThan(seqs[1] as number);
    expect(eventsAfter(db, { after: seqs[0] as number, limit: 10 }).map((e) => e.seq)).toEqual(
      seqs.slice(1),
    );
    db.close();
  });

  test("two processes writing to the same database at once both succeed", async () => {
    const path = join(tempDir(), "agentd.db");
    openDatabase(path).close();
    const writer = join(REPO_ROOT, "test/fixtures/db-writer.ts");
    const procs = ["left", "right"].map((prefix) =>
      Bun.spawn([process.execPath, writer, path, prefix, "3000"], { stderr: "pipe" }),
    );
    const codes = await Promise.all(procs.map((p) => p.exited));
    const errors = await Promise.all(procs.map((p) => new Response(p.stderr).text()));
    expect(errors.join("")).not.toContain("SQLITE_BUSY");
    expect(codes).toEqual([0, 0]);
    const db = openDatabase(path);
    expect(db.query<{ n: number }, []>("SELECT count(*) AS n FROM agents").get()?.n).toBe(6000);
    expect(db.query<{ n: number }, []>("SELECT count(*) AS n FROM events").get()?.n).toBe(6000);
    db.close();
  });
});
