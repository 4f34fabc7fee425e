/**
 * The `pi` driver end to end: a real agentd daemon (from source) driving the pinned pi against
 * the fake provider, through the HTTP API and the CLI, as an operator would; and once as a
 * persistent agent under a private systemd user manager.
 */

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PERMISSION_GATE_FILE, PERMISSION_GATE_SOURCE } from "../../src/protocols/pi.ts";
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
import { PI_MODEL, PI_PROVIDER, PI_THINKING_MODEL, piSetup } from "../clis/pi.ts";
import { livingGroupMembers } from "../lib/cli-process.ts";
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

/** The fake's fixed usage (120 in, 30 out) at models.json's $3/$15 per million: $0.00081. */
const CALL_COST = 810;

/** The daemon's own environment, without anything that could point pi elsewhere. */
function daemonEnv(extra: Record<string, string | undefined> = {}) {
  const env: Record<string, string | undefined> = { ...extra };
  for (const key of Object.keys(process.env)) {
    if (key.startsWith("PI_")) env[key] = undefined;
  }
  return env;
}

interface Spawned {
  agent: AgentJson;
  setup: CliSetup;
}

/** Agents a test started, stopped after it so pi processes do not pile up. */
const started: { daemon: TestDaemon; id: string }[] = [];

afterEach(async () => {
  for (const { daemon, id } of started.splice(0)) {
    await daemon.api(`/agents/${id}/stop`, { method: "POST" }).catch(() => {});
  }
});

async function spawnPi(daemon: TestDaemon, body: Record<string, unknown> = {}): Promise<Spawned> {
  const setup = piSetup(llm, tempDir());
  const res = await daemon.api<AgentJson>("/agents", {
    method: "POST",
    body: JSON.stringify({
      protocol: "pi",
      command: setup.command,
      cwd: setup.cwd,
      env: setup.env,
      provider: PI_PROVIDER,
      model: PI_MODEL,
      webhook: hooks.url,
      ...body,
    }),
  });
  if (res.status !== 201) {
    throw new Error(`spawn failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  started.push({ daemon, id: res.body.id });
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

/** The conversation pi sent with its last model call. */
function lastConversation(): string {
  return JSON.stringify(llm.modelCalls().at(-1)?.body.messages);
}

function slowCall() {
  return waitFor("the slow model call", () =>
    llm.modelCalls().find((c) => c.reply === "text" && JSON.stringify(c.body).includes("SLOW")),
  );
}

describe("pi through agentd (run mode)", () => {
  let daemon: TestDaemon;

  beforeAll(async () => {
    daemon = await startDaemon({ env: daemonEnv() });
  });

  test("two turns: each answered, tokens and cost counted per turn, pi's session file kept", async () => {
    const { agent } = await spawnPi(daemon);
    expect(agent).toMatchObject({ protocol: "pi", status: "idle" });
    const first = await ask(daemon, agent.id, "hello there");
    expect(first).toMatchObject({ status: "completed", response: "echo: hello there" });
    const second = await ask(daemon, agent.id, "second prompt");
    expect(second).toMatchObject({ status: "completed", response: "echo: second prompt" });
    expect(lastConversation()).toContain("echo: hello there");

    const after = await getAgent(daemon, agent.id);
    expect(after).toMatchObject({
      status: "idle",
      turns: 2,
      input_tokens: 240,
      output_tokens: 60,
      cost_micro_usd: 2 * CALL_COST,
    });
    expect(after.session_id).toEndWith(".jsonl");
    expect(existsSync(after.session_id as string)).toBe(true);
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

  test("a prompt sent while a turn runs gets its own turn and answer after it", async () => {
    const { agent } = await spawnPi(daemon);
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

  test("a failed model call fails the turn with pi's words and fires the error webhook", async () => {
    const { agent } = await spawnPi(daemon);
    const failed = await ask(daemon, agent.id, "FAIL 500");
    expect(failed).toMatchObject({ status: "error", error: "500 fake-llm: HTTP 500 requested" });
    const hook = await waitFor("the error webhook", () => hooks.forAgent(agent.id, "error")[0]);
    expect(hook.body).toMatchObject({ agent_id: agent.id, event: "error" });
    expect(JSON.stringify(hook.body)).toContain("HTTP 500 requested");
    const next = await ask(daemon, agent.id, "after the failure");
    expect(next).toMatchObject({ status: "completed", response: "echo: after the failure" });
    expect((await getAgent(daemon, agent.id)).cost_micro_usd).toBe(CALL_COST);
  });

  test("under allow-all a tool call runs unasked (pi's own way), as tool events", async () => {
    const { agent, setup } = await spawnPi(daemon, { permissions: "allow-all" });
    const answer = await ask(daemon, agent.id, "RUN: touch allowed.txt && echo ran-it");
    expect(answer).toMatchObject({ status: "completed", response: "tool output: ran-it\n" });
    expect(existsSync(join(setup.cwd, "allowed.txt"))).toBe(true);
    const events = await eventsUntil(daemon, agent.id, (e) => e.event === "turn.completed");
    expect(events.filter((e) => e.event === "tool").map((e) => e.data.data)).toEqual([
      {
        phase: "call",
        name: "bash",
        detail: { command: "touch allowed.txt && echo ran-it" },
      },
      { phase: "result", name: "bash", detail: { is_error: false, output: "ran-it\n" } },
    ]);
    expect(events.filter((e) => e.event === "permission")).toEqual([]);
    expect((await getAgent(daemon, agent.id)).cost_micro_usd).toBe(2 * CALL_COST);
  });

  test("under the default policy agentd's gate denies the tool, it never runs, and the denial is recorded", async () => {
    const { agent, setup } = await spawnPi(daemon);
    expect(agent.permissions).toBe("ask-denied");
    const answer = await ask(daemon, agent.id, "RUN: touch denied.txt");
    expect(answer).toMatchObject({
      status: "completed",
      response: "tool output: agentd's permission policy denied bash",
    });
    expect(existsSync(join(setup.cwd, "denied.txt"))).toBe(false);
    const events = await eventsUntil(daemon, agent.id, (e) => e.event === "turn.completed");
    expect(events.find((e) => e.event === "permission")?.data.data).toEqual({
      tool: "bash",
      decision: "denied",
      reason: "the ask-denied policy denies what needs a person's yes",
      detail: { input: { command: "touch denied.txt" } },
    });
    // pi loaded the gate from the daemon's driver files (in its state dir).
    const gate = join(daemon.home, "agents/drivers", PERMISSION_GATE_FILE);
    expect(readFileSync(gate, "utf8")).toBe(PERMISSION_GATE_SOURCE);
  });

  test("read-only offers pi's reading tools only: the model has no shell to call", async () => {
    const { agent, setup } = await spawnPi(daemon, { permissions: "read-only" });
    const answer = await ask(daemon, agent.id, "RUN: touch nope.txt");
    expect(answer.response).toStartWith("fake-llm: no shell tool");
    const offered = llm
      .modelCalls()
      .at(-1)
      ?.body.tools.map((tool: { function: { name: string } }) => tool.function.name);
    expect(offered.sort()).toEqual(["find", "grep", "ls", "read"]);
    expect(existsSync(join(setup.cwd, "nope.txt"))).toBe(false);
  });

  test("cancel aborts a slow turn; it ends cancelled and the agent answers the next prompt", async () => {
    const { agent } = await spawnPi(daemon);
    await post(daemon, `/agents/${agent.id}/send`, { message: "SLOW", turn_id: "t-slow" });
    const call = await slowCall();
    const cancel = await post<TurnJson>(daemon, `/agents/${agent.id}/turns/t-slow/cancel`);
    expect(cancel.status).toBe(200);
    const turn = await daemon.api<TurnJson>(
      `/agents/${agent.id}/turns/t-slow?wait=1&timeout_ms=20000`,
    );
    expect(turn.body).toMatchObject({ status: "cancelled", error: "aborted by request" });
    await waitFor("the provider stream to be closed", () => call.disconnected);
    expect((await getAgent(daemon, agent.id)).status).toBe("idle");
    const next = await ask(daemon, agent.id, "still there?");
    expect(next).toMatchObject({ status: "completed", response: "echo: still there?" });
  });

  test("a fact told before a restart is remembered after it (--session <file>)", async () => {
    const { agent } = await spawnPi(daemon);
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
    const home = tempDir("agentd-pi-home-");
    const first = await startDaemon({ home, env: daemonEnv() });
    const { agent } = await spawnPi(first);
    await ask(first, agent.id, "remember: the code word is HERON");
    expect(await first.stop()).toBe(0);
    const second = await startDaemon({ home, env: daemonEnv() });
    expect((await getAgent(second, agent.id)).status).toBe("stopped");
    const restarted = await post<AgentJson>(second, `/agents/${agent.id}/start`);
    started.push({ daemon: second, id: agent.id });
    expect(restarted.body.status).toBe("idle");
    const recalled = await ask(second, agent.id, "RECALL: the code word");
    expect(recalled.response).toBe("recall: the code word is HERON");
  });

  test("stop says goodbye: pi exits 0 on its own and leaves no process behind", async () => {
    const { agent } = await spawnPi(daemon, { permissions: "allow-all" });
    await ask(daemon, agent.id, "RUN: echo hi");
    const pid = agent.pid as number;
    expect(livingGroupMembers(pid).length).toBeGreaterThan(0);
    const stopped = await post<AgentJson>(daemon, `/agents/${agent.id}/stop`);
    expect(stopped.body).toMatchObject({ status: "stopped", exit_code: 0, pid: null });
    const events = await eventsUntil(daemon, agent.id, (e) => e.event === "exit");
    expect(events.find((e) => e.event === "exit")?.data.data).toEqual({
      code: 0,
      signal: null,
      stopped: true,
    });
    expect(livingGroupMembers(pid)).toEqual([]);
  });

  test("stop during a turn: the turn ends cancelled, pi still exits 0", async () => {
    const { agent } = await spawnPi(daemon);
    await post(daemon, `/agents/${agent.id}/send`, { message: "SLOW", turn_id: "t-stop" });
    const call = await slowCall();
    const stopped = await post<AgentJson>(daemon, `/agents/${agent.id}/stop`);
    expect(stopped.body).toMatchObject({ status: "stopped", exit_code: 0 });
    const turn = await daemon.api<TurnJson>(`/agents/${agent.id}/turns/t-stop`);
    expect(turn.body.status).toBe("cancelled");
    await waitFor("the provider stream to be closed", () => call.disconnected);
    expect(livingGroupMembers(agent.pid as number)).toEqual([]);
  });

  test("thinking is pi's --thinking (a thinking model's reasoning_effort); a level pi lacks is refused", async () => {
    const { agent } = await spawnPi(daemon, { model: PI_THINKING_MODEL, thinking: "low" });
    expect(await ask(daemon, agent.id, "think a little")).toMatchObject({ status: "completed" });
    expect(llm.modelCalls().at(-1)?.body).toMatchObject({
      model: PI_THINKING_MODEL,
      reasoning_effort: "low",
    });
    const refused = await daemon.api<{ error: { message: string } }>("/agents", {
      method: "POST",
      body: JSON.stringify({
        protocol: "pi",
        command: piSetup(llm, tempDir()).command,
        thinking: "deep",
      }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('thinking "deep" means nothing to pi');
    const listed = await daemon.api<AgentJson[]>("/agents");
    expect(listed.body.filter((a) => a.thinking === "deep")).toEqual([]);
  });
});

describe("pi from the agentd CLI", () => {
  test("spawn --protocol pi finds `pi` on PATH; send, cancel and attach work on it", async () => {
    const bin = dirname(installedBinary("pi"));
    const daemon = await startDaemon({ env: daemonEnv({ PATH: `${bin}:${process.env.PATH}` }) });
    const setup = piSetup(llm, tempDir());
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
      "pi",
      "--provider",
      PI_PROVIDER,
      "--model",
      PI_MODEL,
      "--cwd",
      setup.cwd,
      ...envFlags,
    );
    expect(spawned.code).toBe(0);
    const id = spawned.stdout;
    started.push({ daemon, id });
    expect((await getAgent(daemon, id)).command).toEqual([join(bin, "pi")]);

    const answered = await agentd("send", id, "hello", "there", "--wait");
    expect(answered).toMatchObject({ code: 0, stdout: "echo: hello there" });

    expect((await agentd("send", id, "SLOW", "--turn-id", "t-cli")).stdout).toBe("t-cli");
    await slowCall();
    expect((await agentd("cancel", id, "t-cli")).code).toBe(0);
    const attached = await agentd("attach", id, "t-cli");
    expect(attached.code).toBe(1);
    expect(attached.stderr).toContain("cancelled");
  });
});

describeWithSystemd("pi as a persistent agent under systemd", manager, (systemd) => {
  const home = tempDir("agentd-pi-persistent-");
  const env = () => daemonEnv({ ...systemd.env, AGENTD_LINGER_DIR: tempDir("agentd-linger-") });
  let daemon: TestDaemon;

  beforeAll(async () => {
    daemon = await startDaemon({ home, env: env() });
  });

  test("answers turns through its FIFO, is denied a tool by the gate, resumes after a restart and a crash, stops clean", async () => {
    const { agent, setup } = await spawnPi(daemon, { name: "pia", mode: "persistent" });
    expect(agent).toMatchObject({ id: "pia", mode: "persistent", status: "idle" });
    const told = await ask(daemon, "pia", "remember: the code word is OSPREY");
    expect(told).toMatchObject({
      status: "completed",
      response: "echo: remember: the code word is OSPREY",
    });
    const denied = await ask(daemon, "pia", "RUN: touch denied.txt");
    expect(denied.response).toBe("tool output: agentd's permission policy denied bash");
    expect(existsSync(join(setup.cwd, "denied.txt"))).toBe(false);
    const before = await getAgent(daemon, "pia");
    expect(before).toMatchObject({
      input_tokens: 360,
      output_tokens: 90,
      cost_micro_usd: 3 * CALL_COST,
    });

    const restarted = await post<AgentJson>(daemon, "/agents/pia/restart");
    expect(restarted.status).toBe(200);
    const again = await waitFor("pi to run again", async () => {
      const now = await getAgent(daemon, "pia");
      return now.status === "idle" && now.pid !== before.pid ? now : undefined;
    });
    expect(again.session_id).toBe(before.session_id);
    const recalled = await ask(daemon, "pia", "RECALL: the code word");
    expect(recalled.response).toBe("recall: the code word is OSPREY");

    // systemd starts pi again after a crash with the env file's --session, set when pi reported it.
    process.kill(again.pid as number, "SIGKILL");
    const revived = await waitFor(
      "systemd to start pi again",
      async () => {
        const now = await getAgent(daemon, "pia");
        return now.status === "idle" && now.pid !== again.pid ? now : undefined;
      },
      30_000,
    );
    expect(revived.session_id).toBe(before.session_id);
    const still = await ask(daemon, "pia", "RECALL: the code word");
    expect(still.response).toBe("recall: the code word is OSPREY");

    const stopped = await post<AgentJson>(daemon, "/agents/pia/stop");
    expect(stopped.body).toMatchObject({ status: "stopped", pid: null });
    const state = await systemd.systemctl(
      "show",
      "-p",
      "ActiveState",
      "--value",
      "agentd-agent@pia.service",
    );
    expect(state.stdout.trim()).toBe("inactive");
    await waitForStatus(daemon, "pia", "stopped");
  });

  test("a pi process that outlives a daemon restart answers the next daemon, in the same conversation", async () => {
    await spawnPi(daemon, { name: "pib", mode: "persistent" });
    await ask(daemon, "pib", "remember: the code word is KESTREL");
    const before = await getAgent(daemon, "pib");
    expect(await daemon.stop()).toBe(0);
    daemon = await startDaemon({ home, env: env() });
    started.push({ daemon, id: "pib" });
    const adopted = await waitForStatus(daemon, "pib", "idle");
    expect(adopted.pid).toBe(before.pid);
    const recalled = await ask(daemon, "pib", "RECALL: the code word");
    expect(recalled).toMatchObject({
      status: "completed",
      response: "recall: the code word is KESTREL",
    });
    const after = await getAgent(daemon, "pib");
    expect(after).toMatchObject({ pid: before.pid, turns: 2, cost_micro_usd: 2 * CALL_COST });
  });
});
