/**
 * The `claude` driver end to end: a real agentd daemon (from source) driving the pinned Claude
 * Code against the fake provider, through the HTTP API, as an operator would.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { runCli } from "../../test/cli/run-cli.ts";
import { startWebhookReceiver } from "../../test/fixtures/webhook-receiver.ts";
import {
  type AgentJson,
  ask,
  getAgent,
  type TurnJson,
  waitForStatus,
} from "../../test/helpers/agents.ts";
import { startDaemon, stopAllDaemons, type TestDaemon } from "../../test/helpers/daemon.ts";
import { readEvents, type SseEvent } from "../../test/helpers/sse.ts";
import { describeWithSystemd, startUserManager } from "../../test/helpers/systemd.ts";
import { tempDir } from "../../test/helpers/tmp.ts";
import { waitFor } from "../../test/helpers/wait.ts";
import { CLAUDE_MODEL, claudeSetup } from "../clis/claude.ts";
import { type CliSetup, installedBinary } from "../lib/setup.ts";
import { useInteropHarness } from "./harness.ts";

const llm = useInteropHarness();
const hooks = startWebhookReceiver();
const manager = await startUserManager();

afterAll(async () => {
  await stopAllDaemons();
  await hooks.stop();
  await manager?.stop();
});

/** Sonnet's price for the fake's fixed usage (120 in, 30 out): $0.00081 per model call. */
const CALL_COST = 810;

/** The daemon's own environment, without anything that could point Claude Code elsewhere. */
function daemonEnv(extra: Record<string, string | undefined> = {}) {
  const env: Record<string, string | undefined> = { ...extra };
  for (const key of Object.keys(process.env)) {
    if (/^(CLAUDE|ANTHROPIC)/.test(key)) env[key] = undefined;
  }
  return env;
}

interface Spawned {
  agent: AgentJson;
  setup: CliSetup;
}

async function spawnClaude(
  daemon: TestDaemon,
  body: Record<string, unknown> = {},
): Promise<Spawned> {
  const setup = claudeSetup(llm, tempDir());
  const res = await daemon.api<AgentJson>("/agents", {
    method: "POST",
    body: JSON.stringify({
      protocol: "claude",
      command: setup.command,
      cwd: setup.cwd,
      env: setup.env,
      model: CLAUDE_MODEL,
      webhook: hooks.url,
      ...body,
    }),
  });
  if (res.status !== 201) {
    throw new Error(`spawn failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return { agent: res.body, setup };
}

async function post<T = unknown>(daemon: TestDaemon, path: string, body?: unknown) {
  return daemon.api<T>(path, {
    method: "POST",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The agent's stored events up to (and including) the first that `until` accepts. */
function eventsUntil(daemon: TestDaemon, id: string, until: (event: SseEvent) => boolean) {
  return readEvents(`${daemon.url}/agents/${id}/events?since=0`, (seen) => seen.some(until));
}

/** Living processes of a process group, from /proc (zombies are dead already). */
function groupMembers(pgid: number): string[] {
  const members: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, , group] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(group) === pgid && state !== "Z") members.push(entry);
    } catch {
      // Gone while we looked.
    }
  }
  return members;
}

describe("claude through agentd (run mode)", () => {
  let daemon: TestDaemon;

  beforeAll(async () => {
    daemon = await startDaemon({ env: daemonEnv() });
  });

  test("two turns: each answered, tokens and cost counted per turn, the session id kept", async () => {
    const { agent } = await spawnClaude(daemon);
    expect(agent).toMatchObject({ protocol: "claude", status: "idle" });
    const first = await ask(daemon, agent.id, "hello there");
    expect(first).toMatchObject({ status: "completed", response: "echo: hello there" });
    const second = await ask(daemon, agent.id, "second prompt");
    expect(second).toMatchObject({ status: "completed", response: "echo: second prompt" });

    const after = await getAgent(daemon, agent.id);
    expect(after).toMatchObject({
      status: "idle",
      turns: 2,
      input_tokens: 240,
      output_tokens: 60,
      cost_micro_usd: 2 * CALL_COST,
    });
    expect(after.session_id).toMatch(/^[0-9a-f-]{36}$/);
    for (const turnId of [first.turn_id, second.turn_id]) {
      const turn = await daemon.api<TurnJson>(`/agents/${agent.id}/turns/${turnId}`);
      expect(turn.body).toMatchObject({ status: "completed", cost_micro_usd: CALL_COST });
    }
    const messages = await daemon.api<{ role: string; content: string }[]>(
      `/agents/${agent.id}/messages`,
    );
    expect(messages.body.map((m) => [m.role, m.content])).toEqual([
      ["user", "hello there"],
      ["assistant", "echo: hello there"],
      ["user", "second prompt"],
      ["assistant", "echo: second prompt"],
    ]);
  });

  test("a prompt sent while a turn runs gets its own turn and answer, not a share of the first", async () => {
    const { agent } = await spawnClaude(daemon);
    const slow = await post<{ status: string }>(daemon, `/agents/${agent.id}/send`, {
      message: "SLOW 20",
      turn_id: "slow",
    });
    expect(slow.body.status).toBe("sent");
    const next = await ask(daemon, agent.id, "and then this", { turn_id: "next" });
    expect(next).toMatchObject({ status: "completed", response: "echo: and then this" });
    const first = await daemon.api<TurnJson>(`/agents/${agent.id}/turns/slow`);
    expect(first.body).toMatchObject({ status: "completed", response: "tick ".repeat(20) });
  });

  test("a failed model call fails the turn with Claude Code's words and fires the error webhook", async () => {
    const { agent } = await spawnClaude(daemon);
    const failed = await ask(daemon, agent.id, "FAIL 500");
    expect(failed.status).toBe("error");
    expect(failed.error).toStartWith("API Error: 500 fake-llm: HTTP 500 requested");
    const hook = await waitFor("the error webhook", () => hooks.forAgent(agent.id, "error")[0]);
    expect(hook.body).toMatchObject({ agent_id: agent.id, event: "error" });
    expect(JSON.stringify(hook.body)).toContain("HTTP 500 requested");
    const next = await ask(daemon, agent.id, "after the failure");
    expect(next).toMatchObject({ status: "completed", response: "echo: after the failure" });
  });

  test("under allow-all a tool call runs; its permission is recorded as allowed", async () => {
    const { agent, setup } = await spawnClaude(daemon, { permissions: "allow-all" });
    const answer = await ask(daemon, agent.id, "RUN: touch allowed.txt && echo ran-it");
    expect(answer).toMatchObject({ status: "completed", response: "tool output: ran-it" });
    expect(existsSync(join(setup.cwd, "allowed.txt"))).toBe(true);
    const events = await eventsUntil(daemon, agent.id, (e) => e.event === "turn.completed");
    expect(events.find((e) => e.event === "permission")?.data.data).toMatchObject({
      tool: "Bash",
      decision: "allowed",
      detail: { input: { command: "touch allowed.txt && echo ran-it" } },
    });
    expect(events.filter((e) => e.event === "tool").map((e) => e.data.data.phase)).toEqual([
      "call",
      "result",
    ]);
  });

  test("under the default policy the tool is denied, never run, and the denial recorded", async () => {
    const { agent, setup } = await spawnClaude(daemon);
    expect(agent.permissions).toBe("ask-denied");
    const answer = await ask(daemon, agent.id, "RUN: touch denied.txt");
    expect(answer).toMatchObject({
      status: "completed",
      response:
        "tool output: agentd's permission policy denied Bash: the ask-denied policy denies what needs a person's yes",
    });
    expect(existsSync(join(setup.cwd, "denied.txt"))).toBe(false);
    const events = await eventsUntil(daemon, agent.id, (e) => e.event === "permission");
    expect(events.find((e) => e.event === "permission")?.data.data).toMatchObject({
      tool: "Bash",
      decision: "denied",
      reason: "the ask-denied policy denies what needs a person's yes",
    });
  });

  test("cancel interrupts a slow turn; it ends cancelled and the agent answers the next prompt", async () => {
    const { agent } = await spawnClaude(daemon);
    await post(daemon, `/agents/${agent.id}/send`, { message: "SLOW", turn_id: "t-slow" });
    const call = await waitFor("the slow model call", () =>
      llm.modelCalls().find((c) => c.reply === "text" && JSON.stringify(c.body).includes("SLOW")),
    );
    const cancel = await post<TurnJson>(daemon, `/agents/${agent.id}/turns/t-slow/cancel`);
    expect(cancel.status).toBe(200);
    const turn = await daemon.api<TurnJson>(
      `/agents/${agent.id}/turns/t-slow?wait=1&timeout_ms=20000`,
    );
    expect(turn.body).toMatchObject({ status: "cancelled" });
    await waitFor("the provider stream to be closed", () => call.disconnected);
    expect((await getAgent(daemon, agent.id)).status).toBe("idle");
    const next = await ask(daemon, agent.id, "still there?");
    expect(next).toMatchObject({ status: "completed", response: "echo: still there?" });
  });

  test("a fact told before a restart is remembered after it (--resume with the stored session)", async () => {
    const { agent } = await spawnClaude(daemon);
    await ask(daemon, agent.id, "remember: the code word is PELICAN");
    const before = await getAgent(daemon, agent.id);
    const restarted = await post<AgentJson>(daemon, `/agents/${agent.id}/restart`);
    expect(restarted.status).toBe(200);
    expect(restarted.body.pid).not.toBe(before.pid);
    const recalled = await ask(daemon, agent.id, "RECALL: the code word");
    expect(recalled).toMatchObject({
      status: "completed",
      response: "recall: the code word is PELICAN",
    });
    expect((await getAgent(daemon, agent.id)).session_id).toBe(before.session_id);
  });

  test("after the daemon itself restarts, a start resumes the conversation it kept", async () => {
    const home = tempDir("agentd-claude-home-");
    const first = await startDaemon({ home, env: daemonEnv() });
    const { agent } = await spawnClaude(first);
    await ask(first, agent.id, "remember: the code word is HERON");
    expect(await first.stop()).toBe(0);
    const second = await startDaemon({ home, env: daemonEnv() });
    expect((await getAgent(second, agent.id)).status).toBe("stopped");
    const started = await post<AgentJson>(second, `/agents/${agent.id}/start`);
    expect(started.body.status).toBe("idle");
    const recalled = await ask(second, agent.id, "RECALL: the code word");
    expect(recalled).toMatchObject({
      status: "completed",
      response: "recall: the code word is HERON",
    });
  });

  test("stop says goodbye: Claude Code exits 0 on its own and leaves no process behind", async () => {
    const { agent } = await spawnClaude(daemon, { permissions: "allow-all" });
    // A tool call leaves a shell behind in some CLIs: one more reason to look at the group.
    await ask(daemon, agent.id, "RUN: echo hi");
    const pid = agent.pid as number;
    expect(groupMembers(pid).length).toBeGreaterThan(0);
    const stopped = await post<AgentJson>(daemon, `/agents/${agent.id}/stop`);
    expect(stopped.body).toMatchObject({ status: "stopped", exit_code: 0, pid: null });
    const events = await eventsUntil(daemon, agent.id, (e) => e.event === "exit");
    expect(events.find((e) => e.event === "exit")?.data.data).toEqual({
      code: 0,
      signal: null,
      stopped: true,
    });
    expect(groupMembers(pid)).toEqual([]);
  });

  test("thinking maps to Claude Code's own setting; a value it has no meaning for is refused", async () => {
    const { agent } = await spawnClaude(daemon, { thinking: "off" });
    await ask(daemon, agent.id, "think less");
    expect(llm.modelCalls().at(-1)?.body.thinking).toEqual({ type: "disabled" });
    const refused = await daemon.api<{ error: { message: string } }>("/agents", {
      method: "POST",
      body: JSON.stringify({
        protocol: "claude",
        command: claudeSetup(llm, tempDir()).command,
        thinking: "deep",
      }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('thinking "deep"');
    const listed = await daemon.api<AgentJson[]>("/agents");
    expect(listed.body.filter((a) => a.thinking === "deep")).toEqual([]);
  });
});

describe("claude from the agentd CLI", () => {
  test("spawn --protocol claude finds `claude` on PATH; send, cancel and attach work on it", async () => {
    const bin = dirname(installedBinary("claude"));
    const daemon = await startDaemon({
      env: daemonEnv({ PATH: `${bin}:${process.env.PATH}` }),
    });
    const setup = claudeSetup(llm, tempDir());
    const agentd = async (...args: string[]) => {
      const result = await runCli([...args, "--url", daemon.url]);
      return { ...result, stdout: result.stdout.trim() };
    };
    const envFlags = Object.entries(setup.env).flatMap(([key, value]) => [
      "--env",
      `${key}=${value}`,
    ]);
    const spawned = await agentd(
      "spawn",
      "--protocol",
      "claude",
      "--model",
      CLAUDE_MODEL,
      "--cwd",
      setup.cwd,
      ...envFlags,
    );
    expect(spawned.code).toBe(0);
    const id = spawned.stdout;
    expect((await getAgent(daemon, id)).command).toEqual([join(bin, "claude")]);

    const answered = await agentd("send", id, "hello", "there", "--wait");
    expect(answered).toMatchObject({ code: 0, stdout: "echo: hello there" });

    expect((await agentd("send", id, "SLOW", "--turn-id", "t-cli")).stdout).toBe("t-cli");
    await waitFor("the slow model call", () =>
      llm.modelCalls().find((c) => c.reply === "text" && JSON.stringify(c.body).includes("SLOW")),
    );
    expect((await agentd("cancel", id, "t-cli")).code).toBe(0);
    const attached = await agentd("attach", id, "t-cli");
    expect(attached.code).toBe(1);
    expect(attached.stderr).toContain("cancelled");
  });
});

describeWithSystemd("claude as a persistent agent under systemd", manager, (systemd) => {
  const home = tempDir("agentd-claude-persistent-");
  let daemon: TestDaemon;

  beforeAll(async () => {
    daemon = await startDaemon({
      home,
      env: daemonEnv({ ...systemd.env, AGENTD_LINGER_DIR: tempDir("agentd-linger-") }),
    });
  });

  test("answers turns, and resumes its conversation when systemd restarts it after a crash", async () => {
    const { agent } = await spawnClaude(daemon, { name: "claudia", mode: "persistent" });
    expect(agent).toMatchObject({ id: "claudia", mode: "persistent", status: "idle" });
    const told = await ask(daemon, "claudia", "remember: the code word is OSPREY");
    expect(told).toMatchObject({
      status: "completed",
      response: "echo: remember: the code word is OSPREY",
    });
    const before = await getAgent(daemon, "claudia");
    expect(before).toMatchObject({
      input_tokens: 120,
      output_tokens: 30,
      cost_micro_usd: CALL_COST,
    });

    // The session id reaches the env file as soon as it is known, not only on agentd's restarts.
    const envFile = join(systemd.configHome, "agentd/claudia.env");
    await waitFor("the env file to name the session", () =>
      readFileSync(envFile, "utf8").includes(`"${before.session_id}"`),
    );
    process.kill(before.pid as number, "SIGKILL");
    const again = await waitFor(
      "systemd to start claude again",
      async () => {
        const now = await getAgent(daemon, "claudia");
        return now.status === "idle" && now.pid !== before.pid ? now : undefined;
      },
      30_000,
    );
    expect(again.session_id).toBe(before.session_id);
    const recalled = await ask(daemon, "claudia", "RECALL: the code word");
    expect(recalled.status).toBe("completed");
    // A process killed right after a turn may not have saved its answer yet: Claude Code then
    // adds "Continue from where you left off." to the prompt it finds unanswered.
    expect(recalled.response).toStartWith("recall: the code word is OSPREY");

    const stopped = await post<AgentJson>(daemon, "/agents/claudia/stop");
    expect(stopped.body).toMatchObject({ status: "stopped", pid: null });
    const state = await systemd.systemctl(
      "show",
      "-p",
      "ActiveState",
      "--value",
      "agentd-agent@claudia.service",
    );
    expect(state.stdout.trim()).toBe("inactive");
    await waitForStatus(daemon, "claudia", "stopped");
  });
});
