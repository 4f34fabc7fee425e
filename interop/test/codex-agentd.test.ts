/**
 * The codex driver end to end: a real agentd daemon (from source) drives the real `codex
 * app-server` (pinned in interop/) against the fake provider. The agent's environment is the
 * offline set-up of `clis/codex.ts`, passed as the agent's `env`; the program is found as
 * `codex` on the daemon's PATH, as an operator's would be.
 */

import type { Database } from "bun:sqlite";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { eventsAfter } from "../../src/store/events.ts";
import {
  startWebhookReceiver,
  type WebhookReceiver,
} from "../../test/fixtures/webhook-receiver.ts";
import {
  type AgentJson,
  ask,
  getAgent,
  type TurnJson,
  waitForStatus,
} from "../../test/helpers/agents.ts";
import {
  type ApiClient,
  daemonDatabase,
  startDaemon,
  stopAllDaemons,
  type TestDaemon,
} from "../../test/helpers/daemon.ts";
import { describeWithSystemd, startUserManager } from "../../test/helpers/systemd.ts";
import { tempDir } from "../../test/helpers/tmp.ts";
import { processGone, waitFor } from "../../test/helpers/wait.ts";
import { CODEX_MODEL, codexSetup } from "../clis/codex.ts";
import { livingGroupMembers } from "../lib/cli-process.ts";
import { installedBinary } from "../lib/setup.ts";
import { useInteropHarness } from "./harness.ts";

const llm = useInteropHarness();
const manager = await startUserManager();

/** The daemon finds `codex` on its PATH: interop's pinned CLI first. */
const PATH = `${join(installedBinary("codex"), "..")}:${process.env.PATH}`;

let daemon: TestDaemon;
let db: Database;
let hooks: WebhookReceiver;
const running: { daemon: ApiClient; id: string }[] = [];

beforeAll(async () => {
  daemon = await startDaemon({ env: { PATH } });
  db = daemonDatabase(daemon);
  hooks = startWebhookReceiver();
});

// Every agent a test started is stopped, so no codex outlives its test.
afterEach(async () => {
  for (const { daemon: owner, id } of running.splice(0)) {
    await owner.api(`/agents/${id}/stop`, { method: "POST" });
  }
});

afterAll(async () => {
  await stopAllDaemons();
  await hooks.stop();
  await manager?.stop();
});

/** A codex agent with its own CODEX_HOME, started and idle. */
async function spawnCodex(body: Record<string, unknown> = {}, owner: ApiClient = daemon) {
  const setup = codexSetup(llm, tempDir());
  const res = await owner.api<AgentJson>("/agents", {
    method: "POST",
    body: JSON.stringify({ protocol: "codex", cwd: setup.cwd, env: setup.env, ...body }),
  });
  if (res.status !== 201)
    throw new Error(`spawn failed: ${res.status} ${JSON.stringify(res.body)}`);
  running.push({ daemon: owner, id: res.body.id });
  return { agent: res.body, setup };
}

function eventsOf(id: string, type: string, from: Database = db): unknown[] {
  return eventsAfter(from, { agentId: id, after: 0, limit: 10_000 })
    .filter((event) => event.type === type)
    .map((event) => event.data);
}

async function turnOf(id: string, turnId: string): Promise<TurnJson> {
  return (await daemon.api<TurnJson>(`/agents/${id}/turns/${turnId}`)).body;
}

/** A patch that adds one file, in codex's own patch language, run through its shell tool. */
function addFilePatch(path: string): string {
  return [
    "SCRIPT:",
    "apply_patch <<'EOF'",
    "*** Begin Patch",
    `*** Add File: ${path}`,
    "+written by codex",
    "*** End Patch",
    "EOF",
  ].join("\n");
}

describe("codex through agentd (run mode)", () => {
  test("two prompts are two turns with codex's answers; tokens count per turn, cost is unknown", async () => {
    const { agent } = await spawnCodex({
      model: CODEX_MODEL,
      thinking: "high",
      extra_args: ["-c", 'developer_instructions="from agentd extra_args"'],
    });
    expect(agent).toMatchObject({ protocol: "codex", status: "idle" });
    expect(agent.command).toEqual([installedBinary("codex")]);

    const first = await ask(daemon, agent.id, "hello there");
    expect(first).toMatchObject({ status: "completed", response: "echo: hello there" });
    const second = await ask(daemon, agent.id, "second prompt");
    expect(second).toMatchObject({ status: "completed", response: "echo: second prompt" });

    for (const turnId of [first.turn_id, second.turn_id]) {
      expect(await turnOf(agent.id, turnId)).toMatchObject({
        status: "completed",
        input_tokens: 120,
        output_tokens: 30,
        cost_micro_usd: null,
      });
    }
    const after = await getAgent(daemon, agent.id);
    expect(after).toMatchObject({
      status: "idle",
      turns: 2,
      input_tokens: 240,
      output_tokens: 60,
      cost_micro_usd: null,
    });
    expect(eventsOf(agent.id, "usage")).toEqual([
      expect.objectContaining({
        input_tokens: 120,
        output_tokens: 30,
        cost_micro_usd: null,
        model: CODEX_MODEL,
      }),
      expect.objectContaining({
        input_tokens: 120,
        output_tokens: 30,
        cost_micro_usd: null,
        model: CODEX_MODEL,
      }),
    ]);
    // The thread is the agent's conversation, kept to resume it.
    expect(after.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(eventsOf(agent.id, "session")).toEqual([{ session_id: after.session_id }]);
    const lastCall = llm.modelCalls().at(-1)?.body;
    expect(JSON.stringify(lastCall.input)).toContain("echo: hello there");
    expect(lastCall).toMatchObject({ model: CODEX_MODEL, reasoning: { effort: "high" } });
    expect(JSON.stringify(lastCall)).toContain("from agentd extra_args");
  });

  test("an HTTP 500 fails the turn with codex's error and an error webhook; the next prompt works", async () => {
    const { agent } = await spawnCodex({ webhook: hooks.url });
    const failed = await ask(daemon, agent.id, "FAIL 500");
    expect(failed.status).toBe("error");
    expect(failed.error).toContain("(internalServerError)");
    expect(await turnOf(agent.id, failed.turn_id)).toMatchObject({ status: "error" });
    const hook = await waitFor("the error webhook", () => hooks.forAgent(agent.id, "error")[0]);
    expect(hook.body).toMatchObject({ event: "error", agent_id: agent.id });
    expect(JSON.stringify(hook.body)).toContain("internalServerError");

    const next = await ask(daemon, agent.id, "after the failure");
    expect(next).toMatchObject({ status: "completed", response: "echo: after the failure" });
  });

  test("under allow-all a command runs without a question", async () => {
    const { agent, setup } = await spawnCodex({ permissions: "allow-all" });
    const answer = await ask(daemon, agent.id, "RUN: touch allowed.txt && echo ran-it");
    expect(answer.status).toBe("completed");
    expect(answer.response).toContain("ran-it");
    expect(existsSync(join(setup.cwd, "allowed.txt"))).toBe(true);
    expect(eventsOf(agent.id, "permission")).toEqual([]);
    expect(eventsOf(agent.id, "tool")).toEqual([
      {
        phase: "call",
        name: "commandExecution",
        detail: { command: "/bin/bash -lc 'touch allowed.txt && echo ran-it'", cwd: setup.cwd },
      },
      {
        phase: "result",
        name: "commandExecution",
        detail: { status: "completed", exit_code: 0, output: "ran-it\n" },
      },
    ]);
  });

  describe("a write outside the workspace", () => {
    // Outside the workspace and outside /tmp, which codex's workspace sandbox may also write.
    let outside: string;
    let target: string;
    beforeAll(() => {
      outside = mkdtempSync("/var/tmp/agentd-codex-");
      target = join(outside, "outside.txt");
    });
    afterAll(() => rmSync(outside, { recursive: true, force: true }));

    test("under the default policy codex asks, agentd declines and records it; the workspace is writable", async () => {
      const { agent, setup } = await spawnCodex();
      expect(agent.permissions).toBe("ask-denied");
      const answer = await ask(daemon, agent.id, addFilePatch(target));
      expect(answer).toMatchObject({
        status: "completed",
        response: "tool output: patch rejected by user",
      });
      expect(existsSync(target)).toBe(false);
      expect(eventsOf(agent.id, "permission")).toEqual([
        {
          tool: "fileChange",
          decision: "denied",
          reason: expect.stringContaining("ask-denied"),
          detail: { changes: [{ path: target, kind: "add" }] },
        },
      ]);

      const inside = await ask(daemon, agent.id, addFilePatch("inside.txt"));
      expect(inside.status).toBe("completed");
      expect(existsSync(join(setup.cwd, "inside.txt"))).toBe(true);
      expect(eventsOf(agent.id, "permission")).toHaveLength(1);
    });

    test("under allow-all the same write is made", async () => {
      const { agent } = await spawnCodex({ permissions: "allow-all" });
      const answer = await ask(daemon, agent.id, addFilePatch(target));
      expect(answer.status).toBe("completed");
      expect(existsSync(target)).toBe(true);
      expect(eventsOf(agent.id, "permission")).toEqual([]);
      rmSync(target);
    });
  });

  test("read-only: an edit in the workspace is declined and recorded, and commands cannot write", async () => {
    const { agent, setup } = await spawnCodex({ permissions: "read-only" });
    const edit = await ask(daemon, agent.id, addFilePatch("edited.txt"));
    expect(edit.response).toBe("tool output: patch rejected by user");
    expect(eventsOf(agent.id, "permission")).toEqual([
      expect.objectContaining({ tool: "fileChange", decision: "denied" }),
    ]);
    const command = await ask(daemon, agent.id, "RUN: touch written.txt");
    expect(command.response).toContain("Read-only file system");
    for (const name of ["edited.txt", "written.txt"]) {
      expect(existsSync(join(setup.cwd, name))).toBe(false);
    }
  });

  test("cancel ends a slow turn with turn/interrupt; codex keeps running and answers the next prompt", async () => {
    const { agent } = await spawnCodex();
    const sent = await daemon.api<{ turn_id: string }>(`/agents/${agent.id}/send`, {
      method: "POST",
      body: JSON.stringify({ message: "SLOW" }),
    });
    const turnId = sent.body.turn_id;
    const slowCall = await waitFor("the slow model call", () =>
      llm.modelCalls().find((call) => JSON.stringify(call.body.input).includes('"SLOW"')),
    );
    await waitFor(
      "the turn to run",
      async () => (await turnOf(agent.id, turnId)).status === "running",
    );

    const cancel = await daemon.api(`/agents/${agent.id}/turns/${turnId}/cancel`, {
      method: "POST",
    });
    expect(cancel.status).toBe(200);
    const ended = await daemon.api<TurnJson>(
      `/agents/${agent.id}/turns/${turnId}?wait=1&timeout_ms=20000`,
    );
    expect(ended.body).toMatchObject({ status: "cancelled", error: "cancelled on request" });
    await waitFor("the provider stream to be closed", () => slowCall.disconnected);
    expect((await getAgent(daemon, agent.id)).status).toBe("idle");

    const next = await ask(daemon, agent.id, "after the interrupt");
    expect(next).toMatchObject({ status: "completed", response: "echo: after the interrupt" });
  });

  test("after a restart the thread is resumed: a fact told before it is remembered", async () => {
    const { agent } = await spawnCodex();
    await ask(daemon, agent.id, "remember: the code word is PELICAN");
    const before = await getAgent(daemon, agent.id);

    const restarted = await daemon.api<AgentJson>(`/agents/${agent.id}/restart`, {
      method: "POST",
    });
    expect(restarted.status).toBe(200);
    const after = await waitForStatus(daemon, agent.id, "idle");
    expect(after.pid).not.toBe(before.pid);

    const recalled = await ask(daemon, agent.id, "RECALL: the code word");
    expect(recalled).toMatchObject({
      status: "completed",
      response: "recall: the code word is PELICAN",
    });
    expect((await getAgent(daemon, agent.id)).session_id).toBe(before.session_id);
    // The resumed thread's stored totals are not counted again.
    expect(await turnOf(agent.id, recalled.turn_id)).toMatchObject({
      input_tokens: 120,
      output_tokens: 30,
    });
  });

  test("a policy changed with PATCH reaches the resumed thread after a restart", async () => {
    const { agent, setup } = await spawnCodex({ permissions: "allow-all" });
    await ask(daemon, agent.id, addFilePatch("first.txt"));
    expect(existsSync(join(setup.cwd, "first.txt"))).toBe(true);

    const patched = await daemon.api<{ restart_required: boolean }>(`/agents/${agent.id}`, {
      method: "PATCH",
      body: JSON.stringify({ permissions: "read-only" }),
    });
    expect(patched.body.restart_required).toBe(true);
    await daemon.api(`/agents/${agent.id}/restart`, { method: "POST" });
    await waitForStatus(daemon, agent.id, "idle");

    const denied = await ask(daemon, agent.id, addFilePatch("second.txt"));
    expect(denied.response).toBe("tool output: patch rejected by user");
    expect(existsSync(join(setup.cwd, "second.txt"))).toBe(false);
    expect(eventsOf(agent.id, "permission")).toEqual([
      expect.objectContaining({
        tool: "fileChange",
        decision: "denied",
        reason: expect.stringContaining("read-only"),
      }),
    ]);
  });

  test("stop ends codex through its input: exit 0, nothing of its process group left", async () => {
    const { agent } = await spawnCodex({ permissions: "allow-all" });
    // A tool run leaves codex's helpers behind if anything would.
    await ask(daemon, agent.id, "RUN: echo tool");
    const pid = (await getAgent(daemon, agent.id)).pid as number;
    expect(livingGroupMembers(pid).length).toBeGreaterThan(0);

    const stopped = await daemon.api<AgentJson>(`/agents/${agent.id}/stop`, { method: "POST" });
    expect(stopped.body).toMatchObject({ status: "stopped", pid: null });
    expect(eventsOf(agent.id, "exit")).toEqual([{ code: 0, signal: null, stopped: true }]);
    expect(processGone(pid)).toBe(true);
    expect(livingGroupMembers(pid)).toEqual([]);
  });
});

describeWithSystemd("codex through agentd (persistent mode)", manager, (systemd) => {
  const env = { ...systemd.env, PATH, AGENTD_LINGER_DIR: tempDir("agentd-linger-") };
  let persistent: TestDaemon;
  let persistentDb: Database;

  beforeAll(async () => {
    persistent = await startDaemon({ env });
    persistentDb = daemonDatabase(persistent);
  });

  test("a codex unit answers, is restarted, and resumes its thread", async () => {
    const { agent } = await spawnCodex({ name: "codex-unit", mode: "persistent" }, persistent);
    expect(agent).toMatchObject({ mode: "persistent", status: "idle" });
    const told = await ask(persistent, agent.id, "remember: the code word is HERON");
    expect(told).toMatchObject({
      status: "completed",
      response: "echo: remember: the code word is HERON",
    });

    const restarted = await persistent.api(`/agents/${agent.id}/restart`, { method: "POST" });
    expect(restarted.status).toBe(200);
    await waitForStatus(persistent, agent.id, "idle");
    const recalled = await ask(persistent, agent.id, "RECALL: the code word");
    expect(recalled).toMatchObject({
      status: "completed",
      response: "recall: the code word is HERON",
    });
    expect(eventsOf(agent.id, "usage", persistentDb)).toHaveLength(2);

    const stopped = await persistent.api<AgentJson>(`/agents/${agent.id}/stop`, { method: "POST" });
    expect(stopped.body).toMatchObject({ status: "stopped", pid: null });
    const unit = await systemd.systemctl(
      "show",
      "-p",
      "ActiveState",
      "--value",
      `agentd-agent@${agent.id}.service`,
    );
    expect(unit.stdout.trim()).toBe("inactive");
  });

  test("a daemon killed and started again prompts the same codex process on its open thread", async () => {
    const home = tempDir("agentd-codex-daemon-");
    const first = await startDaemon({ home, env });
    const { agent } = await spawnCodex({ name: "codex-survivor", mode: "persistent" }, first);
    await ask(first, agent.id, "remember: the code word is EGRET");
    const before = await getAgent(first, agent.id);
    await first.stop("SIGKILL");

    const second = await startDaemon({ home, env });
    running.splice(0, running.length, { daemon: second, id: agent.id });
    // The process outlived the daemon: no new handshake, the thread it has open goes on.
    expect(await getAgent(second, agent.id)).toMatchObject({ status: "idle", pid: before.pid });
    const recalled = await ask(second, agent.id, "RECALL: the code word");
    expect(recalled).toMatchObject({
      status: "completed",
      response: "recall: the code word is EGRET",
    });
    expect(await getAgent(second, agent.id)).toMatchObject({
      pid: before.pid,
      session_id: before.session_id,
      turns: 2,
      input_tokens: 240,
      output_tokens: 60,
    });
  });
});
