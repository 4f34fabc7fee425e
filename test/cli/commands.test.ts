import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import type { AgentView } from "../../src/api/schemas.ts";
import { REPO_ROOT, startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";
import { waitFor } from "../helpers/wait.ts";
import { type CliOptions, runCli } from "./run-cli.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

/** The commands for what the API could do and the CLI could not: turns, messages, set, rm, cancel, cost. */

const FAKE_COMMAND = `${process.execPath} ${join(REPO_ROOT, "test/fixtures/fake-agent.ts")}`;

let daemon: TestDaemon;
const servers: { stop(closeActive?: boolean): void }[] = [];

beforeAll(async () => {
  daemon = await startDaemon();
});

afterAll(async () => {
  await stopAllDaemons();
  for (const server of servers) server.stop(true);
});

function agentd(args: string[], options: CliOptions = {}) {
  return runCli(args, { ...options, env: { AGENTD_URL: daemon.url, ...options.env } });
}

async function spawn(...args: string[]): Promise<string> {
  const { stdout, stderr, code } = await agentd(["spawn", "--command", FAKE_COMMAND, ...args]);
  expect({ stderr, code }).toEqual({ stderr: "", code: 0 });
  return stdout.trim();
}

async function agent(id: string): Promise<AgentView> {
  return (await daemon.api<AgentView>(`/agents/${id}`)).body;
}

async function ask(id: string, message: string) {
  return agentd(["send", id, "--wait", message]);
}

describe("agentd turns and agentd messages", () => {
  test("turns lists every turn, oldest first, with a count of each status; show breaks them down too", async () => {
    const id = await spawn("--name", "turner", "--model", "fake-model");
    await ask(id, "one");
    await ask(id, "FAIL please");
    await ask(id, "three");
    const { stdout, code } = await agentd(["turns", "turner"]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TURN +STATUS +MODEL +TOKENS IN\/OUT +COST +CREATED +INPUT$/);
    expect(lines.slice(1, 4).map((line) => line.split(/ +/)[1])).toEqual([
      "completed",
      "error",
      "completed",
    ]);
    expect(lines[1]).toContain("fake-model");
    expect(lines[1]).toContain("$0.0150");
    expect(lines.at(-1)).toBe("3 turns: 2 completed, 1 error");
    const json = await agentd(["turns", "turner", "--json"]);
    expect(JSON.parse(json.stdout).map((turn: { input: string }) => turn.input)).toEqual([
      "one",
      "FAIL please",
      "three",
    ]);
    const show = await agentd(["show", "turner"]);
    expect(show.stdout).toMatch(/^turns: +3 \(2 completed, 1 error\)$/m);
  });

  test("messages prints the conversation, each message under its role and turn", async () => {
    const id = await spawn("--name", "talker");
    const { stdout: turnId } = await agentd(["send", id, "hello there"]);
    await waitFor("the answer", async () => (await agent(id)).turns === 1);
    const { stdout, code } = await agentd(["messages", "talker"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      new RegExp(
        `^user \\(${turnId.trim()}\\) \\S+\\n  hello there\\n\\nassistant \\(${turnId.trim()}\\) \\S+\\n  echo: hello there\\n$`,
      ),
    );
  });
});

describe("agentd set", () => {
  test("changes config, budgets and one env variable at a time through PATCH", async () => {
    const id = await spawn("--name", "settable", "--env", "KEEP=1", "--env", "DROP=2");
    const { stdout, code } = await agentd([
      "set",
      "settable",
      "model=bigger",
      "budget_usd=2.5",
      "budget_action=cancel",
      "env.NEW=3",
      "env.DROP=",
      "extra_args=--flag 'two words'",
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain(`${id}: changed model, budget_usd, budget_action, env, extra_args`);
    expect(stdout).toContain(`agentd restart ${id}`);
    expect(await agent(id)).toMatchObject({
      model: "bigger",
      budget_usd: 2.5,
      budget_action: "cancel",
      env: { KEEP: "1", NEW: "3" },
      extra_args: ["--flag", "two words"],
    });
    expect((await agentd(["set", id, "budget_usd=none"])).code).toBe(0);
    expect((await agent(id)).budget_usd).toBeNull();
  });

  test("an unknown key, a value that is not money or a missing = is a usage error", async () => {
    const id = await spawn("--no-start");
    for (const [assignment, message] of [
      ["colour=red", 'cannot set "colour"'],
      [
        "budget_usd=lots",
        'budget_usd must be an amount of US dollars such as 5 or 0.25, got "lots"',
      ],
      ["model", 'expected KEY=VALUE, got "model"'],
    ]) {
      const { stderr, code } = await agentd(["set", id, assignment as string]);
      expect(code).toBe(2);
      expect(stderr).toContain(message as string);
    }
  });

  test("a spent budget refuses prompts with the amounts; raising it with set lifts it", async () => {
    const id = await spawn("--budget-usd", "0.015", "first");
    await waitFor("the first turn", async () => (await agent(id)).budget_state === "exhausted");
    const refused = await agentd(["send", id, "more"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("has spent $0.0150 of its $0.0150 budget");
    expect((await agentd(["set", id, "budget_usd=1"])).code).toBe(0);
    expect(await ask(id, "more")).toMatchObject({ code: 0, stdout: "echo: more\n" });
    expect((await agentd(["show", id])).stdout).toMatch(
      /^budget: +\$1\.0000 \(at the budget: finish/m,
    );
  });
});

describe("agentd rm", () => {
  test("--stopped removes every agent whose process is over and leaves the others", async () => {
    const running = await spawn("--name", "rm-live");
    const stopped = await spawn("--name", "rm-stopped");
    const crashed = await spawn("--name", "rm-crashed", "CRASH");
    const pending = await spawn("--name", "rm-pending", "--no-start");
    await agentd(["stop", stopped]);
    await waitFor("the crash", async () => (await agent(crashed)).status === "failed");
    const { stdout, code } = await agentd(["rm", "--stopped"]);
    expect(code).toBe(0);
    expect(stdout).toContain(`${stopped} removed with its dir `);
    expect(stdout).toContain(`${crashed} removed with its dir `);
    const left = (await agentd(["ls", "-q"])).stdout.split("\n");
    expect(left).toContain(running);
    expect(left).toContain(pending);
    expect(left).not.toContain(stopped);
    expect(left).not.toContain(crashed);
  });

  test("several agents by name; with none given it is a usage error", async () => {
    const a = await spawn("--name", "rm-a", "--no-start");
    const b = await spawn("--name", "rm-b", "--no-start");
    const { stdout, code } = await agentd(["rm", "rm-a", "rm-b"]);
    expect(code).toBe(0);
    expect(stdout.split("\n").map((line) => line.split(" with its dir ")[0])).toEqual([
      `${a} removed`,
      `${b} removed`,
      "",
    ]);
    expect((await agentd(["rm"])).code).toBe(2);
    expect((await agentd(["rm", "--stopped", a])).code).toBe(2);
  });

  test("an agent the daemon keeps (409: work at risk) is reported in the daemon's words; --force is passed on", async () => {
    // A stand-in for a daemon whose DELETE guards workspaces: it keeps "risky" unless forced.
    const deletes: string[] = [];
    const agents = [stub("risky-1", "stopped"), stub("safe-1", "completed")];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        const url = new URL(request.url);
        if (request.method === "GET" && url.pathname === "/agents") return Response.json(agents);
        if (request.method !== "DELETE") return new Response("no", { status: 404 });
        const id = decodeURIComponent(url.pathname.split("/")[2] ?? "");
        deletes.push(`${id}${url.search}`);
        if (id === "risky-1" && url.searchParams.get("force") !== "1") {
          const message =
            "agent risky-1's worktree has 2 uncommitted files (a.txt, b.txt); commit or push them, or remove it with ?force=1";
          return Response.json({ error: { code: "conflict", message } }, { status: 409 });
        }
        return Response.json({ id, deleted: true, workspace: null });
      },
    });
    servers.push(server);
    const env = { AGENTD_URL: server.url.href };
    const kept = await runCli(["rm", "--stopped"], { env });
    expect(kept.code).toBe(1);
    expect(kept.stdout).toBe("safe-1 removed\n");
    expect(kept.stderr).toContain(
      "agentd: kept risky-1: agent risky-1's worktree has 2 uncommitted files (a.txt, b.txt)",
    );
    expect(kept.stderr).toContain("add --force to remove them anyway");
    const forced = await runCli(["rm", "--stopped", "--force"], { env });
    expect(forced.code).toBe(0);
    expect(deletes).toEqual(["risky-1", "safe-1", "risky-1?force=1", "safe-1?force=1"]);
  });
});

describe("agentd cancel", () => {
  test("a protocol that cannot cancel is refused in the daemon's words; no open turn is said so", async () => {
    const id = await spawn("--name", "canceller");
    const { stdout: turn } = await agentd(["send", id, "SLOW:5000 work"]);
    const refused = await agentd(["cancel", "canceller", turn.trim()]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("omni, which cannot cancel a turn; stop the agent instead");
    const all = await agentd(["cancel", "canceller"]);
    expect(all.code).toBe(1);
    expect(all.stderr).toContain("cannot cancel a turn");
    await agentd(["stop", id]);
    const none = await agentd(["cancel", "canceller"]);
    expect(none).toMatchObject({ code: 1, stderr: `agentd: ${id} has no turn under way\n` });
  });
});

describe("agentd cost", () => {
  test("prints tokens and cost by model since a time, with a total; --json gives the server's report", async () => {
    const quiet = await startDaemon();
    const env = { AGENTD_URL: quiet.url };
    const spawned = await runCli(
      ["spawn", "--command", FAKE_COMMAND, "--model", "fake-model", "--name", "costly"],
      { env },
    );
    const id = spawned.stdout.trim();
    await runCli(["send", id, "--wait", "one"], { env });
    await runCli(["send", id, "--wait", "two"], { env });
    const { stdout, code } = await runCli(["cost", "--by", "model", "--since", "7d"], { env });
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^MODEL +TURNS +IN +OUT +COST +UNKNOWN$/);
    expect(lines[1]?.split(/ +/)).toEqual(["fake-model", "2", "0", "84", "$0.0300"]);
    expect(lines[2]?.split(/ +/)).toEqual(["TOTAL", "2", "0", "84", "$0.0300"]);
    expect(lines[3]).toMatch(/^from \S+ until now$/);
    const byAgent = await runCli(["cost", "--json"], { env });
    expect(JSON.parse(byAgent.stdout).groups.map((g: { key: string }) => g.key)).toEqual([id]);
    const bad = await runCli(["cost", "--by", "colour"], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--by takes agent, model, day, protocol");
  });
});

function stub(id: string, status: string) {
  return { id, name: id, status, created_at: "2026-01-01T00:00:00.000Z" };
}
