import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { DEFAULT_AGENT_PAGE } from "../../src/api/paging.ts";
import type { AgentView as AgentJson } from "../../src/api/schemas.ts";
import { worktreeRequest } from "../../src/cli/agents.ts";
import { REPO_ROOT, startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";
import { commitFile, gitIn, newRepo } from "../helpers/git.ts";
import { tempDir } from "../helpers/tmp.ts";
import { waitFor } from "../helpers/wait.ts";
import { type CliOptions, NO_AGENT, runCli } from "./run-cli.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

const FAKE_AGENT_ARGV = [process.execPath, join(REPO_ROOT, "test/fixtures/fake-agent.ts")];
const FAKE_AGENT = FAKE_AGENT_ARGV.join(" ");

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startDaemon();
});

afterAll(stopAllDaemons);

/** `agentd ARGS...` pointed at the test daemon through AGENTD_URL. */
function agentd(args: string[], options: CliOptions = {}) {
  return runCli(args, { ...options, env: { AGENTD_URL: daemon.url, ...options.env } });
}

async function spawnFake(...args: string[]): Promise<string> {
  const { stdout, stderr, code } = await agentd(["spawn", "--command", FAKE_AGENT, ...args]);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  return stdout.trim();
}

async function showJson(id: string): Promise<AgentJson> {
  const { stdout, code } = await agentd(["show", "--json", id]);
  expect(code).toBe(0);
  return JSON.parse(stdout) as AgentJson;
}

/** Wait until the agent has finished `turns` turns and is idle again. */
function waitForTurns(id: string, turns: number): Promise<AgentJson> {
  return waitFor(`agent ${id} to finish ${turns} turn(s)`, async () => {
    const agent = await showJson(id);
    return agent.turns >= turns && agent.status === "idle" ? agent : undefined;
  });
}

describe("agentd spawn", () => {
  test("prints the new agent's id, which show then describes", async () => {
    const id = await spawnFake("--name", "cli-spawn");
    expect(id).toMatch(/^cli-spawn-[a-z0-9]+$/);
    const agent = await showJson(id);
    expect(agent.id).toBe(id);
    expect(agent.name).toBe("cli-spawn");
  });

  test("passes the prompt, --env, --cwd, provider, model and the args after -- to the agent", async () => {
    const dir = realpathSync(tempDir());
    const id = await spawnFake(
      "--env",
      "GREETING=hi",
      "--env",
      "EQUATION=a=b",
      "--cwd",
      dir,
      "--provider",
      "prov",
      "--model",
      "mod",
      "ARGV",
      "please",
      "--",
      "--extra",
      "one",
    );
    await waitForTurns(id, 1);
    const messages = await daemon.api<{ role: string; content: string }[]>(
      `/agents/${id}/messages`,
    );
    expect(messages.body[0]?.content).toBe("ARGV please");
    const seen = JSON.parse(messages.body[1]?.content ?? "{}");
    expect(seen.argv).toEqual(["--provider", "prov", "--model", "mod", "--json", "--extra", "one"]);
    expect(seen.cwd).toBe(dir);
    expect(seen.env.GREETING).toBe("hi");
    expect(seen.env.EQUATION).toBe("a=b");
  });

  test("without --cwd the agent works in a directory of its own, which show describes", async () => {
    const dir = realpathSync(tempDir());
    const { stdout, code } = await agentd(["spawn", "--command", FAKE_AGENT], { cwd: dir });
    expect(code).toBe(0);
    const id = stdout.trim();
    const agent = await showJson(id);
    const workspace = join(daemon.home, "workspaces", id);
    expect(agent.cwd).toBe(workspace);
    expect(agent.workspace).toMatchObject({ kind: "dir", path: workspace, status: "active" });
    expect((statSync(workspace).mode & 0o777).toString(8)).toBe("700");
    const shown = await agentd(["show", id]);
    expect(shown.stdout).toMatch(new RegExp(`^workspace: +dir ${workspace} \\(active\\)$`, "m"));
  });

  test("--worktree REPO@BASE --branch B: a new worktree of a repository named relative to here", async () => {
    const repo = newRepo();
    const base = gitIn(repo, "rev-parse", "HEAD");
    commitFile(repo, "later.txt", "later\n", "after the base");
    const { stdout, stderr, code } = await agentd(
      ["spawn", "--command", FAKE_AGENT, "--worktree", `repo@${base}`, "--branch", "feature/x"],
      { cwd: dirname(repo) },
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const id = stdout.trim();
    const workspace = join(daemon.home, "workspaces", id);
    expect(await showJson(id)).toMatchObject({
      cwd: workspace,
      workspace: { kind: "worktree", path: workspace, repo, branch: "feature/x", base },
    });
    expect(gitIn(workspace, "rev-parse", "HEAD")).toBe(base);
    const shown = await agentd(["show", id]);
    expect(shown.stdout).toContain(`branch feature/x from ${base} in ${repo}`);
  });

  test("--branch without --worktree is a usage error", async () => {
    const { stderr, code } = await agentd(["spawn", "--branch", "b"]);
    expect(code).toBe(2);
    expect(stderr).toContain("--branch names a worktree's branch: give --worktree too");
  });

  test("--protocol, --thinking and --permissions reach the agent's record", async () => {
    const { stdout, code } = await agentd([
      "spawn",
      "--command",
      FAKE_AGENT,
      "--protocol",
      "omni",
      "--thinking",
      "high",
      "--permissions",
      "read-only",
    ]);
    expect(code).toBe(0);
    expect(await showJson(stdout.trim())).toMatchObject({
      protocol: "omni",
      thinking: "high",
      permissions: "read-only",
    });
    const bad = await agentd(["spawn", "--command", FAKE_AGENT, "--permissions", "yolo"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("permissions");
  });

  test("--env without NAME=VALUE is a usage error (exit 2)", async () => {
    const { stderr, code } = await agentd(["spawn", "--env", "BAD"]);
    expect(code).toBe(2);
    expect(stderr).toContain('--env takes NAME=VALUE, got "BAD"');
  });

  test("--json prints the created agent as the server returns it", async () => {
    const { stdout, code } = await agentd(["spawn", "--json", "--command", FAKE_AGENT]);
    expect(code).toBe(0);
    const agent = JSON.parse(stdout) as AgentJson;
    expect(agent.status).toBe("idle");
    expect(agent.mode).toBe("run");
  });

  test("a request the server rejects prints its message and exits 1", async () => {
    const { stderr, code } = await agentd(["spawn", "--command", "/no/such/agent"]);
    expect(code).toBe(1);
    expect(stderr).toBe('agentd: agent command "/no/such/agent" does not exist\n');
  });
});

describe("a session through the CLI", () => {
  let id: string;

  beforeAll(async () => {
    id = await spawnFake("--name", "session", "first");
    await waitForTurns(id, 1);
  });

  test("send starts a turn and prints its id; the answer becomes the summary", async () => {
    const { stdout, code } = await agentd(["send", id, "second", "prompt"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^turn-\S+\n$/);
    const agent = await waitForTurns(id, 2);
    expect(agent.summary).toBe("echo: second prompt");
  });

  test("send --json prints the server's answer", async () => {
    const { stdout, code } = await agentd(["send", "--json", id, "third"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ status: "sent", turn_id: expect.any(String) });
    await waitForTurns(id, 3);
  });

  test("ls prints an aligned table with status, mode, turns and cost", async () => {
    const { stdout, code } = await agentd(["ls"]);
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trimEnd().split("\n");
    expect(header).toMatch(/^ID\s+STATUS\s+MODE\s+TURNS\s+COST\s+TITLE\/SUMMARY$/);
    const row = rows.find((line) => line.startsWith(`${id} `));
    expect(row).toMatch(new RegExp(`^${id}\\s+idle\\s+run\\s+3\\s+\\$0\\.0450\\s+\\S`));
    expect(row?.indexOf("idle")).toBe(header?.indexOf("STATUS"));
  });

  test("ls --status and --mode filter, and --json prints the server's list", async () => {
    const idle = await agentd(["ls", "--json", "--status", "idle", "--mode", "run"]);
    expect(idle.code).toBe(0);
    expect((JSON.parse(idle.stdout) as AgentJson[]).map((agent) => agent.id)).toContain(id);
    const stopped = await agentd(["ls", "--json", "--status", "stopped"]);
    expect((JSON.parse(stopped.stdout) as AgentJson[]).map((agent) => agent.id)).not.toContain(id);
  });

  test("show prints one field per line, with cost in dollars and the summary", async () => {
    const { stdout, code } = await agentd(["show", id]);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^id: +${id}$`, "m"));
    expect(stdout).toMatch(/^status: +idle$/m);
    expect(stdout).toMatch(/^turns: +3 \(3 completed\)$/m);
    expect(stdout).toMatch(/^cost: +\$0\.0450$/m);
    expect(stdout).toMatch(/^summary: +echo: third$/m);
  });

  test("logs prints the agent's raw log, and --tail only its last lines", async () => {
    const all = await agentd(["logs", id]);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('"response":"echo: third"');
    const tail = await agentd(["logs", id, "--tail", "1"]);
    expect(tail.stdout.trimEnd().split("\n")).toHaveLength(1);
    expect(all.stdout.endsWith(tail.stdout)).toBe(true);
  });

  test("stop ends the agent and prints its new status", async () => {
    const { stdout, code } = await agentd(["stop", id, "--grace", "2000"]);
    expect(code).toBe(0);
    expect(stdout).toBe(`${id} stopped\n`);
    const again = await agentd(["send", id, "hello?"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`agentd: agent ${id} is stopped`);
  });

  test("start brings a stopped agent back and restart cycles it; each prints the new status", async () => {
    const started = await agentd(["start", id]);
    expect(started.code).toBe(0);
    expect(started.stdout).toBe(`${id} idle\n`);
    const before = (await showJson(id)).pid;
    const restarted = await agentd(["restart", id, "--grace", "2000"]);
    expect(restarted.code).toBe(0);
    expect(restarted.stdout).toBe(`${id} idle\n`);
    expect((await showJson(id)).pid).not.toBe(before);
    const twice = await agentd(["start", id]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("already");
  });

  test("rm removes the agent and its workspace; it is unknown afterwards", async () => {
    const { stdout, code } = await agentd(["rm", id]);
    expect(code).toBe(0);
    const workspace = join(daemon.home, "workspaces", id);
    expect(stdout).toBe(`${id} removed with its dir ${workspace}\n`);
    expect(existsSync(workspace)).toBe(false);
    const show = await agentd(["show", id]);
    expect(show.code).toBe(1);
  });

  test("rm refuses a worktree holding unmerged work, saying what; rm --force removes it", async () => {
    const repo = newRepo();
    const tree = await spawnFake("--worktree", repo);
    const workspace = join(daemon.home, "workspaces", tree);
    commitFile(workspace, "work.txt", "work\n", "unmerged work");
    const refused = await agentd(["rm", tree]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`removing the workspace ${workspace} would lose work`);
    expect(refused.stderr).toContain("unmerged work");
    expect((await showJson(tree)).status).toBe("idle");
    const forced = await agentd(["rm", "--force", tree]);
    expect(forced.code).toBe(0);
    expect(existsSync(workspace)).toBe(false);
  });
});

describe(`more agents than one page of GET /agents (${DEFAULT_AGENT_PAGE})`, () => {
  let many: TestDaemon;
  let created: AgentJson[];

  beforeAll(async () => {
    many = await startDaemon();
    created = [];
    for (let i = 0; i <= DEFAULT_AGENT_PAGE; i++) {
      const res = await many.api<AgentJson>("/agents", {
        method: "POST",
        body: JSON.stringify({ name: `many${i}`, command: FAKE_AGENT_ARGV, start: false }),
      });
      expect(res.status).toBe(201);
      created.push(res.body);
    }
    // The list's order: by creation, then by id (agents created within a millisecond).
    created.sort((a, b) =>
      a.created_at === b.created_at
        ? Number(a.id > b.id) - Number(a.id < b.id)
        : a.created_at.localeCompare(b.created_at),
    );
  });

  const onMany = (args: string[]) => runCli(args, { env: { AGENTD_URL: many.url } });

  test("ls lists every agent, oldest first, and --json prints them all as one list", async () => {
    const quiet = await onMany(["ls", "-q"]);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toBe(created.map((agent) => `${agent.id}\n`).join(""));
    const json = await onMany(["ls", "--json", "--status", "pending"]);
    expect((JSON.parse(json.stdout) as AgentJson[]).map((agent) => agent.id)).toEqual(
      created.map((agent) => agent.id),
    );
  });

  test("an agent on the last page is found by its name and by the start of its id", async () => {
    const last = created.at(-1) as AgentJson;
    for (const ref of [last.name, last.id.slice(0, -3)]) {
      const { stdout, code } = await onMany(["show", "--json", ref]);
      expect(code).toBe(0);
      expect((JSON.parse(stdout) as AgentJson).id).toBe(last.id);
    }
  });
});

describe("failures", () => {
  test("an unknown agent id prints the server's 404 message and exits 1", async () => {
    for (const args of [
      ["show", "nope"],
      ["send", "nope", "hi"],
      ["stop", "nope"],
      ["logs", "nope"],
    ]) {
      const { stdout, stderr, code } = await agentd(args);
      expect(code).toBe(1);
      expect(stdout).toBe("");
      expect(stderr).toBe(NO_AGENT);
    }
  });

  test("a daemon that cannot be reached exits 1 with a message naming its URL", async () => {
    const url = "http://127.0.0.1:1";
    const { stderr, code } = await runCli(["ls"], { env: { AGENTD_URL: url } });
    expect(code).toBe(1);
    expect(stderr).toStartWith(`agentd: cannot talk to the agentd daemon at ${url}: `);
  });

  test("--url beats AGENTD_URL", async () => {
    const { code } = await runCli(["ls", "--url", daemon.url], {
      env: { AGENTD_URL: "http://127.0.0.1:1" },
    });
    expect(code).toBe(0);
  });

  test("a missing ID or a non-numeric --tail is a usage error (exit 2)", async () => {
    expect((await agentd(["show"])).code).toBe(2);
    expect((await agentd(["send", "only-an-id"])).code).toBe(2);
    const tail = await agentd(["logs", "x", "--tail", "ten"]);
    expect(tail.code).toBe(2);
    expect(tail.stderr).toContain('--tail must be a whole number, got "ten"');
  });
});

describe("with a token", () => {
  test("AGENTD_TOKEN is sent as a bearer token; without it the server's 401 message is shown", async () => {
    const guarded = await startDaemon({ args: ["--token", "s3cret"] });
    const withToken = await runCli(["ls"], {
      env: { AGENTD_URL: guarded.url, AGENTD_TOKEN: "s3cret" },
    });
    expect(withToken.code).toBe(0);
    const without = await runCli(["ls"], { env: { AGENTD_URL: guarded.url } });
    expect(without.code).toBe(1);
    expect(without.stderr).toContain("agentd: this daemon requires a token");
  });
});

describe("--worktree REPO[@BASE]", () => {
  test("REPO is made absolute here; what follows the last @ is the base", () => {
    expect(worktreeRequest("repo", undefined)).toEqual({ repo: join(process.cwd(), "repo") });
    expect(worktreeRequest("/r/repo@v1.2", "b")).toEqual({
      repo: "/r/repo",
      base: "v1.2",
      branch: "b",
    });
  });

  test("a directory whose own name holds an @ is the repository whole", () => {
    const dir = join(tempDir(), "proj@2");
    mkdirSync(dir);
    expect(worktreeRequest(dir, undefined)).toEqual({ repo: dir });
    expect(worktreeRequest(`${dir}@main`, undefined)).toEqual({ repo: dir, base: "main" });
  });

  test("an empty base is a usage error", () => {
    expect(() => worktreeRequest("/r/repo@", undefined)).toThrow("nothing after @");
  });
});
