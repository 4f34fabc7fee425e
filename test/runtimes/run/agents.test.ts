import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type AgentJson,
  ask,
  FAKE_TURN_COST,
  getAgent,
  spawnFake,
  type TurnJson,
  waitForStatus,
} from "../../helpers/agents.ts";
import { daemonDatabase, daemonPaths, startDaemon, stopAllDaemons } from "../../helpers/daemon.ts";
import { processGone, waitFor } from "../../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

const logOf = (home: string, id: string) =>
  readFileSync(join(daemonPaths(home).logRoot, id, "agent.log"), "utf8");

describe("prompts and turns", () => {
  test("an initial prompt is the first turn; completion sets idle, summary, title, turns and the conversation", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon, { prompt: "Refactor the parser\nthen add tests" });
    const done = await waitFor("the first turn", async () => {
      const a = await getAgent(daemon, agent.id);
      return a.turns === 1 && a.status === "idle" ? a : undefined;
    });
    expect(done.summary).toBe("echo: Refactor the parser\nthen add tests");
    expect(done.title).toBe("Refactor the parser");
    expect(done.prompt).toBe("Refactor the parser\nthen add tests");
    const messages = (
      await daemon.api<{ role: string; content: string }[]>(`/agents/${agent.id}/messages`)
    ).body;
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "Refactor the parser\nthen add tests"],
      ["assistant", "echo: Refactor the parser\nthen add tests"],
    ]);
  });

  test("usage accumulates exactly in integer micro-USD, with cents derived", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    for (const word of ["one", "two", "three"])
      expect((await ask(daemon, agent.id, word)).status).toBe("completed");
    await ask(daemon, agent.id, "TAGGED");
    const after = await getAgent(daemon, agent.id);
    expect(after.cost_micro_usd).toBe(3 * FAKE_TURN_COST + 1234);
    expect(after.cost_cents).toBe(4.6234);
    expect(after.input_tokens).toBe(10);
    expect(after.output_tokens).toBe(3 * 42 + 20);
    expect(after.turns).toBe(4);
  });

  test("the summary is the first 200 characters of the response", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const long = "y".repeat(500);
    await ask(daemon, agent.id, long);
    expect((await getAgent(daemon, agent.id)).summary).toBe(`echo: ${long}`.slice(0, 200));
  });

  test("a failed turn keeps its error and the agent returns to idle", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const answer = await ask(daemon, agent.id, "please FAIL");
    expect(answer).toMatchObject({ status: "error", error: "Mock failure" });
    const turn = (await daemon.api<TurnJson>(`/agents/${agent.id}/turns/${answer.turn_id}`)).body;
    expect(turn).toMatchObject({ status: "error", error: "Mock failure" });
    expect((await getAgent(daemon, agent.id)).status).toBe("idle");
    expect((await ask(daemon, agent.id, "fine now")).status).toBe("completed");
  });

  test("50 concurrent 100 KiB prompts each arrive intact and in one piece", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const prompts = Array.from(
      { length: 50 },
      (_, i) => `${String(i).padStart(3, "0")}:${"abcdefgh".repeat(12_800)}`,
    );
    const answers = await Promise.all(prompts.map((prompt) => ask(daemon, agent.id, prompt)));
    answers.forEach((answer, i) => {
      const prompt = prompts[i] as string;
      const hash = createHash("sha256").update(prompt).digest("hex");
      expect(answer.response).toBe(`received ${Buffer.byteLength(prompt)} bytes sha256=${hash}`);
    });
    expect((await getAgent(daemon, agent.id)).turns).toBe(50);
  });

  test("raw prompts without envelopes are answered in order", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon, { turn_envelope: false });
    const answers = await Promise.all(
      ["first", "second", "third"].map((m) => ask(daemon, agent.id, m)),
    );
    expect(answers.map((a) => a.response)).toEqual(["echo: first", "echo: second", "echo: third"]);
  });
});

describe("reading the agent's output", () => {
  test("every stdout line goes to agent.log, stderr lines with a [stderr] prefix", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    await ask(daemon, agent.id, "STDERR please");
    const log = logOf(daemon.home, agent.id);
    expect(log).toContain('"custom_type":"agent_complete"');
    await waitFor("stderr in the log", () =>
      logOf(daemon.home, agent.id).includes("[stderr] still going"),
    );
    expect(logOf(daemon.home, agent.id)).toContain("[stderr] warming up\n");
    const tail = await fetch(`${daemon.url}/agents/${agent.id}/logs?tail=1`).then((r) => r.text());
    expect(tail.split("\n").filter(Boolean)).toHaveLength(1);
  });

  test("garbage and unknown lines are logged and skipped; the turn still completes", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    expect((await ask(daemon, agent.id, "GARBAGE")).status).toBe("completed");
    expect(logOf(daemon.home, agent.id)).toContain("this is not json");
    expect((await getAgent(daemon, agent.id)).status).toBe("idle");
  });

  test("a line over 16 MiB is cut in the log, skipped, and reported as a warning", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    expect((await ask(daemon, agent.id, "HUGE")).status).toBe("completed");
    const log = logOf(daemon.home, agent.id);
    expect(log.length).toBeLessThan(1024 * 1024);
    expect(log).toMatch(/line of \d+ bytes cut/);
    const db = daemonDatabase(daemon);
    const warning = db
      .query<{ data: string }, [string]>(
        "SELECT data FROM events WHERE agent_id = ? AND type = 'log'",
      )
      .all(agent.id)
      .map((row) => JSON.parse(row.data) as { level: string; message: string })
      .find((data) => data.level === "warn");
    db.close();
    expect(warning?.message).toContain("16 MiB");
  });

  test("the agent gets --provider, --model, --json, the extra args, the env, and its thinking level as AGENTD_THINKING", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon, {
      provider: "prov",
      model: "mod",
      thinking: "high",
      extra_args: ["--flag", "a b"],
      env: { FAKE_SETTING: "x=y z" },
    });
    const answer = await ask(daemon, agent.id, "ARGV");
    const report = JSON.parse(answer.response as string) as {
      argv: string[];
      cwd: string;
      env: Record<string, string>;
    };
    expect(report.argv).toEqual([
      "--provider",
      "prov",
      "--model",
      "mod",
      "--json",
      "--flag",
      "a b",
    ]);
    expect(report.cwd).toBe(daemon.home);
    expect(report.env.FAKE_SETTING).toBe("x=y z");
    expect(report.env.AGENTD_THINKING).toBe("high");
  });
});

test("the daemon's secrets are not handed to its agents", async () => {
  const daemon = await startDaemon({
    env: { AGENTD_WEBHOOK_SECRET: "s3cret", AGENTD_TITLE_KEY: "k3y", KEEP_ME: "yes" },
  });
  const agent = await spawnFake(daemon);
  const answer = await ask(daemon, agent.id, "ARGV");
  const env = (JSON.parse(answer.response as string) as { env: Record<string, string> }).env;
  expect(env.KEEP_ME).toBe("yes");
  expect(env.AGENTD_WEBHOOK_SECRET).toBeUndefined();
  expect(env.AGENTD_TITLE_KEY).toBeUndefined();
});

describe("exits, stop and delete", () => {
  test("an agent that crashes is failed with its exit code and the open turn errors", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const answer = await ask(daemon, agent.id, "CRASH");
    expect(answer.status).toBe("error");
    expect(answer.error).toContain("exited with code 3");
    const failed = await waitForStatus(daemon, agent.id, "failed");
    expect(failed.exit_code).toBe(3);
    expect(failed.error).toContain("code 3");
    expect(failed.pid).toBeNull();
  });

  test("an agent that exits 0 on its own is completed", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    expect((await ask(daemon, agent.id, "EXIT0")).status).toBe("completed");
    expect((await waitForStatus(daemon, agent.id, "completed")).exit_code).toBe(0);
  });

  test("stop ends the agent (its input closed, then signals to its group); stopping again returns the status without error", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const stopped = await daemon.api<AgentJson>(`/agents/${agent.id}/stop`, { method: "POST" });
    expect(stopped.status).toBe(200);
    expect(stopped.body.status).toBe("stopped");
    expect(processGone(agent.pid as number)).toBe(true);
    const again = await daemon.api<AgentJson>(`/agents/${agent.id}/stop`, { method: "POST" });
    expect(again.status).toBe(200);
    expect(again.body.status).toBe("stopped");
  });

  test("an agent that ignores SIGTERM is killed after the grace period", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    await ask(daemon, agent.id, "IGNORE_TERM");
    const begin = Date.now();
    const stopped = await daemon.api<AgentJson>(`/agents/${agent.id}/stop?grace_ms=300`, {
      method: "POST",
    });
    expect(stopped.body.status).toBe("stopped");
    expect(Date.now() - begin).toBeGreaterThanOrEqual(300);
    expect(processGone(agent.pid as number)).toBe(true);
  });

  test("grandchildren are gone after stop", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const answer = await ask(daemon, agent.id, "FORK");
    const grandchild = Number(/grandchild (\d+)/.exec(answer.response as string)?.[1]);
    expect(processGone(grandchild)).toBe(false);
    await daemon.api(`/agents/${agent.id}/stop`, { method: "POST" });
    await waitFor("the grandchild to be gone", () => processGone(grandchild));
  });

  test("a stop in the middle of a turn cancels that turn", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const sent = await daemon.api<{ turn_id: string }>(`/agents/${agent.id}/send`, {
      method: "POST",
      body: JSON.stringify({ message: "SLOW:30000" }),
    });
    await waitForStatus(daemon, agent.id, "running");
    await daemon.api(`/agents/${agent.id}/stop`, { method: "POST" });
    const turn = (await daemon.api<TurnJson>(`/agents/${agent.id}/turns/${sent.body.turn_id}`))
      .body;
    expect(turn.status).toBe("cancelled");
  });

  test("delete stops the agent and removes its row, turns, messages, events and log directory", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    await ask(daemon, agent.id, "hello");
    const logDir = join(daemonPaths(daemon.home).logRoot, agent.id);
    expect(existsSync(logDir)).toBe(true);
    const res = await daemon.api(`/agents/${agent.id}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(processGone(agent.pid as number)).toBe(true);
    expect(existsSync(logDir)).toBe(false);
    expect((await daemon.api(`/agents/${agent.id}`)).status).toBe(404);
    const db = daemonDatabase(daemon);
    for (const table of ["turns", "messages", "events"]) {
      expect(
        db.query(`SELECT count(*) AS n FROM ${table} WHERE agent_id = ?`).get(agent.id),
      ).toEqual({ n: 0 });
    }
    db.close();
  });
});

describe("daemon shutdown", () => {
  test("SIGTERM stops every run within one grace period, records stopped, and exits 0", async () => {
    const daemon = await startDaemon({ args: ["--stop-grace", "500"] });
    const calm = await spawnFake(daemon);
    const stubborn = await spawnFake(daemon);
    await ask(daemon, stubborn.id, "IGNORE_TERM");
    const begin = Date.now();
    expect(await daemon.stop("SIGTERM")).toBe(0);
    expect(Date.now() - begin).toBeLessThan(5000);
    for (const agent of [calm, stubborn]) expect(processGone(agent.pid as number)).toBe(true);
    const db = daemonDatabase(daemon);
    const statuses = db.query<{ status: string }, []>("SELECT status FROM agents").all();
    db.close();
    expect(statuses).toEqual([{ status: "stopped" }, { status: "stopped" }]);
  });

  test("SIGKILL of the daemon takes its agents with it, and the next daemon reports them lost", async () => {
    const daemon = await startDaemon();
    const agent = await spawnFake(daemon);
    const answer = await ask(daemon, agent.id, "FORK");
    const grandchild = Number(/grandchild (\d+)/.exec(answer.response as string)?.[1]);
    await daemon.stop("SIGKILL");
    await waitFor("the agent to die with the daemon", () => processGone(agent.pid as number));
    await waitFor("the grandchild to die with the daemon", () => processGone(grandchild));
    const next = await startDaemon({ home: daemon.home });
    const lost = await getAgent(next, agent.id);
    expect(lost.status).toBe("lost");
    expect(lost.error).toContain("daemon stopped");
  });
});
