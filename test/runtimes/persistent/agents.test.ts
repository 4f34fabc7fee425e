import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import {
  appendFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import {
  type AgentJson,
  ask,
  FAKE_AGENT_COMMAND,
  FAKE_TURN_COST,
  getAgent,
  waitForStatus,
} from "../../helpers/agents.ts";
import { startDaemon, stopAllDaemons, type TestDaemon } from "../../helpers/daemon.ts";
import { commitFile, gitIn, newRepo } from "../../helpers/git.ts";
import { readEvents } from "../../helpers/sse.ts";
import { describeWithSystemd, startUserManager } from "../../helpers/systemd.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { waitFor } from "../../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

const manager = await startUserManager();

afterAll(async () => {
  await stopAllDaemons();
  await manager?.stop();
});

interface ErrorJson {
  error: {
    code: string;
    message: string;
    details?: { hand_edits: { path: string; diff: string }[] };
  };
}

describeWithSystemd("persistent agents under a real systemd user manager", manager, (systemd) => {
  const home = tempDir("agentd-persistent-");
  const lingerDir = tempDir("agentd-linger-");
  const configDir = join(systemd.configHome, "agentd");
  const unitFile = join(systemd.configHome, "systemd/user/agentd-agent@.service");
  const stateDir = join(home, "agents");
  let daemon: TestDaemon;

  beforeAll(async () => {
    daemon = await startDaemon({ home, env: { ...systemd.env, AGENTD_LINGER_DIR: lingerDir } });
  });

  async function create(name: string, body: Record<string, unknown> = {}) {
    return daemon.api<AgentJson & ErrorJson>("/agents", {
      method: "POST",
      body: JSON.stringify({
        name,
        mode: "persistent",
        command: FAKE_AGENT_COMMAND,
        cwd: home,
        ...body,
      }),
    });
  }

  async function createOk(name: string, body: Record<string, unknown> = {}): Promise<AgentJson> {
    const res = await create(name, body);
    if (res.status !== 201)
      throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async function post<T = AgentJson & ErrorJson>(path: string, body?: unknown) {
    return daemon.api<T>(path, {
      method: "POST",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function unitProperty(name: string, property: string): Promise<string> {
    const shown = await systemd.systemctl(
      "show",
      "-p",
      property,
      "--value",
      `agentd-agent@${name}.service`,
    );
    return shown.stdout.trim();
  }

  test("is created as a running unit, answers a prompt with a turn and its cost, and stops", async () => {
    const created = await createOk("alpha");
    expect(created).toMatchObject({
      id: "alpha",
      name: "alpha",
      mode: "persistent",
      status: "idle",
    });
    expect(await unitProperty("alpha", "ActiveState")).toBe("active");
    expect(created.pid).toBe(Number(await unitProperty("alpha", "MainPID")));

    const answer = await ask(daemon, "alpha", "hello there");
    expect(answer).toMatchObject({ status: "completed", response: "echo: hello there" });
    const agent = await getAgent(daemon, "alpha");
    expect(agent).toMatchObject({ status: "idle", turns: 1, cost_micro_usd: FAKE_TURN_COST });
    const messages =
      await daemon.api<{ role: string; content: string }[]>("/agents/alpha/messages");
    expect(messages.body.map((m) => [m.role, m.content])).toEqual([
      ["user", "hello there"],
      ["assistant", "echo: hello there"],
    ]);
    const logs = await daemon.api<string>("/agents/alpha/logs");
    expect(logs.body).toContain('"custom_type":"agent_complete"');

    const stopped = await post("/agents/alpha/stop");
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ status: "stopped", pid: null });
    expect(await unitProperty("alpha", "ActiveState")).toBe("inactive");
  });

  test("turns can be waited on, timed out and attached to, and stream as events, as for runs", async () => {
    await createOk("epsilon");
    const timedOut = await daemon.api<{ status: string; turn_id: string }>("/agents/epsilon/send", {
      method: "POST",
      body: JSON.stringify({
        message: "SLOW:1000 later",
        wait: true,
        timeout_ms: 50,
        turn_id: "t-1",
      }),
    });
    expect(timedOut.body).toEqual({ status: "timeout", turn_id: "t-1" });
    const attached = await daemon.api<{ status: string; response: string }>(
      "/agents/epsilon/turns/t-1?wait=1&timeout_ms=20000",
    );
    expect(attached.body).toMatchObject({ status: "completed", response: "echo: SLOW:1000 later" });
    const events = await readEvents(`${daemon.url}/agents/epsilon/events?since=0`, (seen) =>
      seen.some((e) => e.event === "turn.completed"),
    );
    const types = events.map((e) => e.event);
    for (const type of ["status", "turn.started", "usage", "turn.completed"])
      expect(types).toContain(type);
  });

  test("an initial prompt is delivered once the agent reads its FIFO", async () => {
    await createOk("beta", { prompt: "first words" });
    const turns = await waitFor("the initial prompt's turn to complete", async () => {
      const res = await daemon.api<{ status: string; response: string }[]>("/agents/beta/turns");
      return res.body[0]?.status === "completed" ? res.body : undefined;
    });
    expect(turns).toHaveLength(1);
    expect(turns[0]?.response).toBe("echo: first words");
  });

  test("extra args and env values reach the agent byte-exact", async () => {
    const extraArgs = [
      "a b",
      "'q'",
      '"dq"',
      "*",
      "$(echo hi)",
      "back\\slash",
      "ünï",
      "",
      "  ",
      "%i",
      "`x`",
      "$HOME",
    ];
    const env = {
      QUOTES: `it's "quoted"`,
      DOLLAR: `$HOME $(id) $$ \${PATH}`,
      PERCENT: "100% %i %%",
      BACKSLASH: "C:\\dir\\n\\",
      SPACES: "  padded  ",
      UNICODE: "ünïcødé ✓ 🚀",
      HASH: "# not a comment",
      TAB: "a\tb",
    };
    await createOk("gamma", {
      extra_args: extraArgs,
      env,
      provider: "prov",
      model: "mod el",
      thinking: "deep",
    });
    const answer = await ask(daemon, "gamma", "ARGV");
    const reported = JSON.parse(answer.response ?? "") as {
      argv: string[];
      cwd: string;
      env: Record<string, string>;
    };
    expect(reported.argv).toEqual([
      "--provider",
      "prov",
      "--model",
      "mod el",
      "--run-id",
      "gamma",
      "--json",
      ...extraArgs,
    ]);
    expect(reported.cwd).toBe(home);
    for (const [key, value] of Object.entries(env)) expect(reported.env[key]).toBe(value);
    expect(reported.env.AGENTD_THINKING).toBe("deep");
  });

  test("the env file is owner-only, marked GENERATED, and lists the extra env sorted by key", async () => {
    await createOk("delta", { start: false, env: { ZED: "z", ALPHA: "a", MIDDLE: "m" } });
    const envFile = join(configDir, "delta.env");
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const text = readFileSync(envFile, "utf8");
    expect(text.split("\n")[0]).toContain("GENERATED");
    expect(text).toContain(`AGENTD_STATE_DIR="${stateDir}"`);
    expect(text).toContain(`AGENTD_ARGV_0="${FAKE_AGENT_COMMAND[0]}"`);
    const keys = text.split("\n").filter((line) => /^(ZED|ALPHA|MIDDLE)=/.test(line));
    expect(keys).toEqual(['ALPHA="a"', 'MIDDLE="m"', 'ZED="z"']);
  });

  test("env values and args with a line break or NUL, and AGENTD_ names, are refused with 400", async () => {
    for (const body of [
      { env: { BAD: "two\nlines" } },
      { env: { BAD: "carriage\rreturn" } },
      { env: { BAD: "nul\0byte" } },
      { extra_args: ["two\nlines"] },
      { env: { AGENTD_MODEL: "sneaky" } },
    ]) {
      const res = await create("refused", body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("bad_request");
    }
    expect(existsSync(join(configDir, "refused.env"))).toBe(false);
    expect((await daemon.api("/agents/refused")).status).toBe(404);
  });

  test("invalid names are refused and leave no files; a missing or taken name too", async () => {
    const filesBefore = readdirSync(configDir);
    for (const name of ["../x", "a b", "@", "x".repeat(65), ".hidden", "a/b", "-dash"]) {
      const res = await create(name);
      expect(res.status).toBe(422);
    }
    expect(readdirSync(configDir)).toEqual(filesBefore);
    const unnamed = await daemon.api<ErrorJson>("/agents", {
      method: "POST",
      body: JSON.stringify({ mode: "persistent", command: FAKE_AGENT_COMMAND, cwd: home }),
    });
    expect(unnamed.status).toBe(400);
    await createOk("taken", { start: false });
    expect((await create("taken", { start: false })).status).toBe(409);
  });

  test("the generated unit passes systemd-analyze verify", async () => {
    await createOk("verified", { start: false });
    const verify = Bun.spawn(["systemd-analyze", "--user", "verify", unitFile], {
      env: { ...process.env, ...systemd.env },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stderr, code] = await Promise.all([new Response(verify.stderr).text(), verify.exited]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  test("a systemctl failure answers with systemctl's own message and leaves nothing behind", async () => {
    const unreachable = await startDaemon({
      env: {
        XDG_RUNTIME_DIR: tempDir("agentd-no-manager-"),
        XDG_CONFIG_HOME: tempDir("agentd-cfg-"),
      },
    });
    const res = await unreachable.api<ErrorJson>("/agents", {
      method: "POST",
      body: JSON.stringify({
        name: "orphan",
        mode: "persistent",
        command: FAKE_AGENT_COMMAND,
        cwd: home,
      }),
    });
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe("systemctl_failed");
    expect(res.body.error.message).toContain(
      "systemctl --user daemon-reload failed: Failed to connect",
    );
    expect((await unreachable.api("/agents/orphan")).status).toBe(404);
    await unreachable.stop();
  });

  test("sending to a stopped agent is a quick 409", async () => {
    await createOk("idle-one", { start: false });
    const started = Date.now();
    const res = await post<ErrorJson>("/agents/idle-one/send", { message: "anyone?" });
    expect(res.status).toBe(409);
    expect(Date.now() - started).toBeLessThan(1000);

    await createOk("was-running");
    await post("/agents/was-running/stop");
    const again = await post<ErrorJson>("/agents/was-running/send", { message: "still there?" });
    expect(again.status).toBe(409);
  });

  test("a hand-edited env file blocks start and restart with a 409 showing the diff, until forced", async () => {
    await createOk("edited", { start: false });
    const envFile = join(configDir, "edited.env");
    appendFileSync(envFile, "HAND_ADDED=1\n");

    const refused = await post("/agents/edited/start");
    expect(refused.status).toBe(409);
    const edit = refused.body.error.details?.hand_edits[0];
    expect(edit?.path).toBe(envFile);
    expect(edit?.diff).toContain("+HAND_ADDED=1");
    expect(readFileSync(envFile, "utf8")).toContain("HAND_ADDED=1");
    expect((await post("/agents/edited/restart")).status).toBe(409);
    expect((await getAgent(daemon, "edited")).status).toBe("pending");

    const forced = await post("/agents/edited/start?force=1");
    expect(forced.status).toBe(200);
    expect(forced.body.status).toBe("idle");
    expect(readFileSync(envFile, "utf8")).not.toContain("HAND_ADDED");
  });

  test("a hand-edited unit file is reported too, and never reverted without force", async () => {
    await createOk("unit-edit", { start: false });
    const original = readFileSync(unitFile, "utf8");
    writeFileSync(unitFile, original.replace("RestartSec=2", "RestartSec=7"));
    const refused = await post("/agents/unit-edit/start");
    expect(refused.status).toBe(409);
    const diff = refused.body.error.details?.hand_edits.find((e) => e.path === unitFile)?.diff;
    expect(diff).toContain("-RestartSec=2");
    expect(diff).toContain("+RestartSec=7");
    expect(readFileSync(unitFile, "utf8")).toContain("RestartSec=7");
    expect((await post("/agents/unit-edit/start?force=1")).status).toBe(200);
    expect(readFileSync(unitFile, "utf8")).toBe(original);
  });

  test("PATCH rewrites the env file and says a restart applies it", async () => {
    await createOk("patched", { model: "old-model" });
    const res = await daemon.api<{ agent: AgentJson; restart_required: boolean }>(
      "/agents/patched",
      {
        method: "PATCH",
        body: JSON.stringify({ model: "new-model", extra_args: ["--flag"] }),
      },
    );
    expect(res.status).toBe(200);
    expect(res.body.restart_required).toBe(true);
    expect(res.body.agent.model).toBe("new-model");
    expect(readFileSync(join(configDir, "patched.env"), "utf8")).toMatch(
      /^AGENTD_ARGV_\d+="new-model"$/m,
    );

    const webhookOnly = await daemon.api<{ agent: AgentJson; restart_required: boolean }>(
      "/agents/patched",
      { method: "PATCH", body: JSON.stringify({ webhook: null }) },
    );
    expect(webhookOnly.body.restart_required).toBe(false);
    expect(webhookOnly.body.agent.webhook).toBeNull();

    const restarted = await post("/agents/patched/restart");
    expect(restarted.status).toBe(200);
    expect(restarted.body).toMatchObject({ status: "idle", restarts: 0 });
    const answer = await ask(daemon, "patched", "ARGV");
    const argv = (JSON.parse(answer.response ?? "") as { argv: string[] }).argv;
    expect(argv.slice(2, 4)).toEqual(["--model", "new-model"]);
    expect(argv.at(-1)).toBe("--flag");
  });

  test("Restart=on-failure brings a crashed agent back, and its status shows the restart", async () => {
    await createOk("crashy");
    const crash = await post<{ turn_id: string }>("/agents/crashy/send", { message: "CRASH now" });
    expect(crash.status).toBe(200);
    const turn = await waitFor("the crashed turn to end", async () => {
      const res = await daemon.api<{ status: string; error: string }>(
        `/agents/crashy/turns/${crash.body.turn_id}`,
      );
      return res.body.status === "error" ? res.body : undefined;
    });
    expect(turn.error).toContain("exited");
    // Sent while systemd waits to restart it: the prompt reaches the new process.
    expect(await ask(daemon, "crashy", "are you back?")).toMatchObject({
      status: "completed",
      response: "echo: are you back?",
    });
    const back = await waitFor("the restart to show", async () => {
      const agent = await getAgent(daemon, "crashy");
      return agent.restarts === 1 && agent.status === "idle" ? agent : undefined;
    });
    expect(back.pid).toBe(Number(await unitProperty("crashy", "MainPID")));
    expect(back.turns).toBe(1);
    // A restart by hand starts counting systemd's automatic restarts afresh.
    expect((await post("/agents/crashy/restart")).body).toMatchObject({
      status: "idle",
      restarts: 0,
    });
  });

  test("DELETE stops the unit and removes its owner-only env file, events file, FIFO and row", async () => {
    await createOk("doomed");
    expect((await ask(daemon, "doomed", "hi")).status).toBe("completed");
    const files = [
      join(configDir, "doomed.env"),
      join(stateDir, "doomed.events.jsonl"),
      join(stateDir, "doomed.fifo"),
    ];
    for (const file of files) expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(stateDir, "doomed.fifo")).isFIFO()).toBe(true);
    const res = await daemon.api("/agents/doomed", { method: "DELETE" });
    expect(res.status).toBe(200);
    for (const file of files) expect(existsSync(file)).toBe(false);
    expect(await unitProperty("doomed", "ActiveState")).toBe("inactive");
    expect((await daemon.api("/agents/doomed")).status).toBe(404);
  });

  test("without cwd it works in a directory of its own, removed with it", async () => {
    const created = await createOk("homed", { cwd: undefined });
    const path = join(home, "workspaces", "homed");
    expect(created).toMatchObject({ cwd: path, workspace: { kind: "dir", path } });
    const answer = await ask(daemon, "homed", "ARGV");
    expect(JSON.parse(answer.response ?? "{}").cwd).toBe(path);
    expect((await daemon.api("/agents/homed", { method: "DELETE" })).status).toBe(200);
    expect(existsSync(path)).toBe(false);
  });

  test("a worktree is its unit's cwd; DELETE refuses its unmerged commit and leaves it running, force removes it", async () => {
    const repo = newRepo();
    const created = await createOk("treeish", { cwd: undefined, worktree: { repo } });
    const path = join(home, "workspaces", "treeish");
    expect(created.workspace).toMatchObject({ kind: "worktree", path, branch: "agentd/treeish" });
    const answer = await ask(daemon, "treeish", "ARGV");
    expect(JSON.parse(answer.response ?? "{}").cwd).toBe(path);
    const sha = commitFile(path, "work.txt", "work\n", "unmerged work");

    const refused = await daemon.api<ErrorJson>("/agents/treeish", { method: "DELETE" });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(`${sha.slice(0, 12)} unmerged work`);
    expect(await unitProperty("treeish", "ActiveState")).toBe("active");
    expect((await getAgent(daemon, "treeish")).status).toBe("idle");

    const forced = await daemon.api("/agents/treeish?force=1", { method: "DELETE" });
    expect(forced.status).toBe(200);
    expect(existsSync(path)).toBe(false);
    expect(gitIn(repo, "branch", "--format=%(refname:short)")).toBe("main");
    expect(await unitProperty("treeish", "ActiveState")).toBe("inactive");
  });

  test("its unit's PATH holds the Nix profile directories, with the user's home", async () => {
    await createOk("pathfinder");
    const environment = await unitProperty("pathfinder", "Environment");
    const path = /(?:^| )PATH=(\S+)/.exec(environment)?.[1]?.split(":") ?? [];
    expect(path).toContain("/run/current-system/sw/bin");
    expect(path).toContain("/usr/local/bin");
    expect(path.filter((dir) => dir.endsWith("/.nix-profile/bin"))).toHaveLength(1);
    expect(path.find((dir) => dir.endsWith("/.nix-profile/bin"))).not.toContain("%h");
    expect(new Set(path).size).toBe(path.length);
  });

  test("/health warns that persistent agents stop at logout until lingering is enabled", async () => {
    const warnings = async () =>
      (await daemon.api<{ warnings: string[] }>("/health")).body.warnings;
    expect((await warnings()).join("\n")).toContain("loginctl enable-linger");
    const lingerFile = join(lingerDir, Bun.spawnSync(["id", "-un"]).stdout.toString().trim());
    writeFileSync(lingerFile, "");
    expect(await warnings()).toEqual([]);
    rmSync(lingerFile);
  });

  test("a stopped agent starts again with the same turns and cost", async () => {
    await createOk("again");
    await ask(daemon, "again", "one");
    await post("/agents/again/stop");
    const started = await post("/agents/again/start");
    expect(started.status).toBe(200);
    await waitForStatus(daemon, "again", "idle");
    await ask(daemon, "again", "two");
    expect(await getAgent(daemon, "again")).toMatchObject({
      turns: 2,
      cost_micro_usd: 2 * FAKE_TURN_COST,
    });
  });
});
