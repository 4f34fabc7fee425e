import { Database } from "bun:sqlite";
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ImportError, importOriginalDatabase } from "../../src/legacy/import.ts";
import { getAgent } from "../../src/store/agents.ts";
import { ForeignDatabaseError, openDatabase } from "../../src/store/db.ts";
import { listMessages } from "../../src/store/messages.ts";
import { getWorkspace } from "../../src/store/workspaces.ts";
import { runCli } from "../cli/run-cli.ts";
import { createOriginalDatabase, insertRow } from "../fixtures/original-db.ts";
import { daemonPaths, startDaemon, stopAllDaemons } from "../helpers/daemon.ts";
import { tempDir } from "../helpers/tmp.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

/** An original whose persistent agents' directory does not exist: it had none. */
const NO_PERSISTENT_AGENTS = "/nonexistent/agentd-agents";

/** An original database with agents of every kind the import meets. */
function originalDatabase(): { path: string; managedDir: string } {
  const dir = tempDir();
  const path = join(dir, "agentd.db");
  const managedDir = tempDir();
  const db = createOriginalDatabase(path);
  insertRow(db, "agents", {
    run_id: "fix-bug-a1b2c3",
    prompt: "fix the bug",
    workspace: managedDir,
    status: "completed",
    provider: "anthropic",
    model: "claude-x",
    cwd: managedDir,
    thinking: "high",
    extra_args: "--verbose  --max-turns 3",
    extra_env: '{"FOO":"bar","N":1}',
    title: "Fix the bug",
    summary: "fixed it",
    cost_cents: 42,
    started_at: "2026-04-11 18:22:31.123456789 UTC",
    completed_at: "2026-04-11 18:30:00 UTC",
    updated_at: "2026-04-11 18:30:00.5 UTC",
  });
  insertRow(db, "agents", {
    run_id: "helper",
    prompt: "",
    workspace: "/home/ben/project",
    status: "idle",
    provider: "anthropic",
    model: "claude-y",
    cwd: "/home/ben/project",
    thinking: "high",
    extra_args: null,
    extra_env: "{}",
    cost_cents: 0,
    updated_at: "2026-04-10T09:00:00Z",
  });
  insertRow(db, "agents", {
    run_id: "broken-run",
    status: "failed",
    error: "Mock failure",
    cost_cents: 3,
    started_at: "2026-04-09 10:00:00 UTC",
  });
  insertRow(db, "agents", {
    run_id: "tree-agent",
    status: "running",
    started_at: "2026-04-12 08:00:00 UTC",
  });
  insertRow(db, "agents", { run_id: "bad/id", status: "stopped" });
  const message = (run_id: string, role: string, content: string, created_at: string) =>
    insertRow(db, "messages", { run_id, role, content, created_at });
  message("fix-bug-a1b2c3", "user", "fix the bug", "2026-04-11 18:22:31 UTC");
  message("fix-bug-a1b2c3", "system", "internal note", "2026-04-11 18:22:32 UTC");
  message("fix-bug-a1b2c3", "assistant", "fixed it", "2026-04-11 18:29:59 UTC");
  message("bad/id", "user", "never imported", "2026-04-11 18:00:00 UTC");
  insertRow(db, "workspaces", {
    run_id: "fix-bug-a1b2c3",
    path: managedDir,
    managed: 1,
    status: "idle",
    size_bytes: 12_345,
    created_at: "2026-04-11 18:22:30 UTC",
    accessed_at: "2026-04-11 18:30:00 UTC",
  });
  insertRow(db, "workspaces", {
    run_id: "helper",
    path: "/home/ben/project",
    managed: 0,
    status: "idle",
  });
  insertRow(db, "workspaces", {
    run_id: "tree-agent",
    path: "/var/lib/omni/agentd/workspaces/tree-agent",
    repo_root: "/home/ben/omni",
    branch: "agentd/tree-agent",
    managed: 1,
    status: "running",
  });
  db.close();
  return { path, managedDir };
}

/** Every row of agentd's tables that the import writes, for comparing whole databases. */
function dump(path: string): unknown {
  const db = new Database(path, { readonly: true });
  const rows = (sql: string) => db.query(sql).all();
  const result = {
    agents: rows("SELECT * FROM agents ORDER BY id"),
    messages: rows("SELECT * FROM messages ORDER BY id"),
    workspaces: rows("SELECT * FROM workspaces ORDER BY agent_id"),
  };
  db.close();
  return result;
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

describe("an original daemon's database", () => {
  test("is refused at start with the import command named, and left byte for byte as it was", () => {
    const { path } = originalDatabase();
    const before = sha256(path);
    const error = (() => {
      try {
        openDatabase(path);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ForeignDatabaseError);
    expect((error as Error).message).toContain(`agentd import-legacy --from ${path} --db NEW.db`);
    expect(sha256(path)).toBe(before);
    expect(existsSync(`${path}-wal`)).toBe(false);
    const db = new Database(path, { readonly: true });
    expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe(
      "delete",
    );
    db.close();
  });

  test("the daemon will not start on it, and says how to import it", async () => {
    const { path } = originalDatabase();
    const home = tempDir();
    const paths = daemonPaths(home);
    const result = await runCli([
      "daemon",
      "--port",
      "0",
      "--db",
      path,
      "--log-root",
      paths.logRoot,
      "--workspace",
      paths.workspace,
      "--state-dir",
      paths.stateDir,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("written by the original agentd daemon");
    expect(result.stderr).toContain(`agentd import-legacy --from ${path}`);
  });

  test("another program's database is refused too, untouched", () => {
    const path = join(tempDir(), "other.db");
    const other = new Database(path, { create: true });
    other.run("CREATE TABLE notes (body TEXT)");
    other.close();
    const before = sha256(path);
    expect(() => openDatabase(path)).toThrow(/not an agentd database \(it has the tables notes/);
    expect(sha256(path)).toBe(before);
  });
});

describe("import-legacy", () => {
  test("copies agents as history, with messages, workspaces and cost in micro-USD", () => {
    const { path, managedDir } = originalDatabase();
    const into = join(tempDir(), "agentd.db");
    const report = importOriginalDatabase({
      from: path,
      into,
      dryRun: false,
      persistentAgentsDir: NO_PERSISTENT_AGENTS,
    });
    expect(report).toEqual({
      from: path,
      into,
      dry_run: false,
      imported: ["fix-bug-a1b2c3", "helper", "broken-run", "tree-agent"],
      skipped: [{ id: "bad/id", reason: expect.stringContaining("cannot be an agentd id") }],
      messages: 2,
      messages_left_out: 1,
      workspaces: 3,
    });

    const db = openDatabase(into);
    expect(getAgent(db, "fix-bug-a1b2c3")).toMatchObject({
      name: "fix-bug-a1b2c3",
      mode: "run",
      protocol: "omni",
      status: "completed",
      command: null,
      provider: "anthropic",
      model: "claude-x",
      cwd: managedDir,
      thinking: "high",
      extra_args: ["--verbose", "--max-turns", "3"],
      env: { FOO: "bar" },
      turn_envelope: false,
      prompt: "fix the bug",
      title: "Fix the bug",
      summary: "fixed it",
      cost_micro_usd: 420_000,
      pid: null,
      created_at: "2026-04-11T18:22:31.123Z",
      started_at: "2026-04-11T18:22:31.123Z",
      completed_at: "2026-04-11T18:30:00.000Z",
      updated_at: "2026-04-11T18:30:00.500Z",
    });
    expect(getAgent(db, "helper")).toMatchObject({
      status: "stopped",
      prompt: null,
      cost_micro_usd: 0,
      created_at: "2026-04-10T09:00:00.000Z",
    });
    expect(getAgent(db, "broken-run")).toMatchObject({
      status: "failed",
      error: "Mock failure",
      cost_micro_usd: 30_000,
      provider: "auto",
      model: "auto",
    });
    expect(getAgent(db, "tree-agent")?.status).toBe("stopped");
    expect(getAgent(db, "bad/id")).toBeNull();

    expect(listMessages(db, "fix-bug-a1b2c3")).toEqual([
      {
        role: "user",
        content: "fix the bug",
        turn_id: null,
        created_at: "2026-04-11T18:22:31.000Z",
      },
      {
        role: "assistant",
        content: "fixed it",
        turn_id: null,
        created_at: "2026-04-11T18:29:59.000Z",
      },
    ]);

    expect(getWorkspace(db, "fix-bug-a1b2c3")).toEqual({
      agent_id: "fix-bug-a1b2c3",
      kind: "dir",
      path: managedDir,
      repo: null,
      branch: null,
      base: null,
      status: "active",
      size_bytes: 12_345,
      created_at: "2026-04-11T18:22:30.000Z",
      accessed_at: "2026-04-11T18:30:00.000Z",
    });
    expect(getWorkspace(db, "helper")).toMatchObject({ kind: "external", status: "missing" });
    expect(getWorkspace(db, "tree-agent")).toMatchObject({
      kind: "worktree",
      repo: "/home/ben/omni",
      branch: "agentd/tree-agent",
      status: "missing",
    });
    db.close();
  });

  test("importing twice gives the same rows", () => {
    const { path } = originalDatabase();
    const into = join(tempDir(), "agentd.db");
    importOriginalDatabase({
      from: path,
      into,
      dryRun: false,
      persistentAgentsDir: NO_PERSISTENT_AGENTS,
    });
    const first = dump(into);
    const again = importOriginalDatabase({
      from: path,
      into,
      dryRun: false,
      persistentAgentsDir: NO_PERSISTENT_AGENTS,
    });
    expect(again.imported).toEqual([]);
    expect(again.skipped.map((s) => [s.id, s.reason])).toEqual([
      ["fix-bug-a1b2c3", "already in agentd's database"],
      ["helper", "already in agentd's database"],
      ["broken-run", "already in agentd's database"],
      ["tree-agent", "already in agentd's database"],
      ["bad/id", expect.stringContaining("cannot be an agentd id")],
    ]);
    expect(dump(into)).toEqual(first);
  });

  test("a dry run reports the same as the import and writes nothing, not even the database", () => {
    const { path } = originalDatabase();
    const before = sha256(path);
    const into = join(tempDir(), "agentd.db");
    const dry = importOriginalDatabase({
      from: path,
      into,
      dryRun: true,
      persistentAgentsDir: NO_PERSISTENT_AGENTS,
    });
    expect(existsSync(into)).toBe(false);
    const real = importOriginalDatabase({
      from: path,
      into,
      dryRun: false,
      persistentAgentsDir: NO_PERSISTENT_AGENTS,
    });
    expect({ ...dry, dry_run: false }).toEqual(real);
    const after = dump(into);
    expect(
      importOriginalDatabase({
        from: path,
        into,
        dryRun: true,
        persistentAgentsDir: NO_PERSISTENT_AGENTS,
      }).imported,
    ).toEqual([]);
    expect(dump(into)).toEqual(after);
    expect(sha256(path)).toBe(before);
  });

  test("importing into the original's own file is refused", () => {
    const { path } = originalDatabase();
    expect(() =>
      importOriginalDatabase({
        from: path,
        into: path,
        dryRun: false,
        persistentAgentsDir: NO_PERSISTENT_AGENTS,
      }),
    ).toThrow(ImportError);
  });

  test("a database that is not the original's is refused", () => {
    const agentd = join(tempDir(), "agentd.db");
    openDatabase(agentd).close();
    expect(() =>
      importOriginalDatabase({
        from: agentd,
        into: join(tempDir(), "x.db"),
        dryRun: false,
        persistentAgentsDir: NO_PERSISTENT_AGENTS,
      }),
    ).toThrow(/not a database of the original agentd/);
  });

  test("from the command line, then the daemon serves the imported agents", async () => {
    const { path } = originalDatabase();
    const home = tempDir();
    const into = daemonPaths(home).db;
    const env = { XDG_CONFIG_HOME: tempDir() };
    const dry = await runCli(["import-legacy", "--from", path, "--db", into, "--dry-run"], { env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would import 4 agents (2 messages, 3 workspaces) from ${path}`);
    expect(existsSync(into)).toBe(false);
    const real = await runCli(["import-legacy", "--from", path, "--db", into], { env });
    expect(real.code).toBe(0);
    expect(real.stdout).toContain("imported 4 agents (2 messages, 3 workspaces)");
    expect(real.stdout).toContain("skipped bad/id: run_id");
    expect(real.stdout).toContain("no persistent agents of the original in");

    const daemon = await startDaemon({ home });
    const agent = await daemon.api<{ status: string; cost_cents: number }>(
      "/agents/fix-bug-a1b2c3",
    );
    expect(agent.status).toBe(200);
    expect(agent.body).toMatchObject({ status: "completed", cost_cents: 42 });
    const messages = await daemon.api<unknown[]>("/agents/fix-bug-a1b2c3/messages");
    expect(messages.body).toHaveLength(2);
    expect(await daemon.stop()).toBe(0);
  });

  test("the original's persistent agents are left to adoption, not imported as history", () => {
    const { path } = originalDatabase();
    const dir = join(tempDir(), "agentd-agents");
    mkdirSync(dir);
    const envFile = join(dir, "helper.env");
    writeFileSync(envFile, "AGENTD_PROVIDER=p\nAGENTD_MODEL=m\nAGENTD_CWD=/home/ben/project\n");
    const into = join(tempDir(), "agentd.db");
    const report = importOriginalDatabase({
      from: path,
      into,
      dryRun: false,
      persistentAgentsDir: dir,
    });
    expect(report.imported).toEqual(["fix-bug-a1b2c3", "broken-run", "tree-agent"]);
    expect(report.skipped).toContainEqual({
      id: "helper",
      reason: `a persistent agent of the original (${envFile}): \`agentd import-legacy --persistent\` adopts it`,
    });
    expect(report.workspaces).toBe(2);
    const db = openDatabase(into);
    expect(getAgent(db, "helper")).toBeNull();
    db.close();
  });

  test("an agent row naming a directory the original kept no record of gets an external workspace", () => {
    const dir = tempDir();
    const path = join(dir, "agentd.db");
    const cwd = tempDir();
    const db = createOriginalDatabase(path);
    insertRow(db, "agents", { run_id: "plain", status: "completed", workspace: cwd, cwd });
    db.close();
    const into = join(tempDir(), "agentd.db");
    const report = importOriginalDatabase({
      from: path,
      into,
      dryRun: false,
      persistentAgentsDir: NO_PERSISTENT_AGENTS,
    });
    expect(report.workspaces).toBe(1);
    const agentd = openDatabase(into);
    expect(getAgent(agentd, "plain")?.workspace).toMatchObject({
      kind: "external",
      path: cwd,
      status: "active",
    });
    agentd.close();
  });

  test("without --from or --persistent it is a usage error", async () => {
    const result = await runCli(["import-legacy"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("give --from OLD.db (import a database) or --persistent");
    const both = await runCli(["import-legacy", "--persistent", "--from", "x.db"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("import the database with --from in a separate run");
  });
});
