import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { AgentView } from "../../src/api/schemas.ts";
import {
  type AgentJson,
  ask,
  FAKE_AGENT_COMMAND,
  spawnFake,
  waitForStatus,
} from "../helpers/agents.ts";
import { daemonDatabase, startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";
import { tempDir } from "../helpers/tmp.ts";
import { processGone, waitFor } from "../helpers/wait.ts";

/**
 * Every endpoint, fed what a careless or hostile client sends: each request gets the right 4xx
 * with a message that says what to fix, and leaves nothing behind — no row, no event, no
 * file, no process. A real daemon, real agents in every state.
 */

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

const PROMPT_CAP = 1000;

interface Case {
  /** What is sent, and why it is wrong. */
  what: string;
  method: string;
  path: string;
  /** An object is sent as JSON; a string as it is. */
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  message: RegExp;
}

type ErrorJson = { error: { code: string; message: string } };

let daemon: TestDaemon;
let configHome: string;
/** Agents in every status, by status. */
const agents: Record<string, AgentJson> = {};

beforeAll(async () => {
  configHome = tempDir("agentd-hostile-config-");
  const env = { XDG_CONFIG_HOME: configHome };
  const args = ["--max-prompt-bytes", String(PROMPT_CAP)];
  // An agent whose daemon was killed: the next daemon finds it lost.
  const previous = await startDaemon({ env, args });
  const doomed = await spawnFake(previous);
  await previous.stop("SIGKILL");
  await waitFor("the killed daemon's agent to be gone", () => processGone(doomed.pid as number));
  daemon = await startDaemon({ home: previous.home, env, args });
  agents.lost = await waitForStatus(daemon, doomed.id, "lost");

  agents.idle = await spawnFake(daemon);
  agents.pending = await spawnFake(daemon, { start: false });
  agents.running = await spawnFake(daemon);
  const busy = await daemon.api(`/agents/${agents.running.id}/send`, {
    method: "POST",
    body: JSON.stringify({ message: "SLOW:600000", turn_id: "busy" }),
  });
  expect(busy.status).toBe(200);
  agents.stopped = await spawnFake(daemon);
  await daemon.api(`/agents/${agents.stopped.id}/stop`, { method: "POST" });
  agents.completed = await spawnFake(daemon);
  await ask(daemon, agents.completed.id, "EXIT0");
  agents.failed = await spawnFake(daemon);
  await daemon.api(`/agents/${agents.failed.id}/send`, {
    method: "POST",
    body: JSON.stringify({ message: "CRASH" }),
  });
  for (const [status, agent] of Object.entries(agents)) {
    agents[status] = await waitForStatus(daemon, agent.id, status);
  }
  // The busy agent has said everything it says before its (long) answer.
  await waitFor("the running agent to be thinking", () =>
    eventTypes(id("running")).includes("inference"),
  );
});

function eventTypes(agentId: string): string[] {
  const db = daemonDatabase(daemon);
  try {
    return db
      .query<{ type: string }, [string]>("SELECT type FROM events WHERE agent_id = ?")
      .all(agentId)
      .map((row) => row.type);
  } finally {
    db.close();
  }
}

/**
 * The agent without what the daemon notes in the background, after earlier turns and exits and
 * at most once a second per agent, whenever that falls: its workspace's size and last use.
 */
function withoutBackgroundNotes(agent: AgentView) {
  const { workspace, ...rest } = agent;
  if (workspace === null) return agent;
  const { size_bytes, accessed_at, ...kept } = workspace;
  return { ...rest, workspace: kept };
}

/** Everything a request could leave behind. */
async function snapshot() {
  const db = daemonDatabase(daemon);
  try {
    return {
      agents: (await daemon.api<AgentView[]>("/agents")).body.map(withoutBackgroundNotes),
      rows: db
        .query(
          "SELECT (SELECT count(*) FROM turns) AS turns, (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM events) AS events",
        )
        .get(),
      files: [...files(daemon.home), ...files(configHome)],
      processes: descendants(daemon.proc.pid),
    };
  } finally {
    db.close();
  }
}

function files(root: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(root, { recursive: true, encoding: "utf8" })) {
    const path = join(root, entry);
    found.push(`${path} ${statSync(path).size}`);
  }
  return found.filter((line) => !line.includes("agentd.db")).sort();
}

/**
 * Every process below `pid`: its children, theirs, and so on — but for `du`, which measures a
 * workspace in the background whenever an agent's rest between measurements ends.
 */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) === "du") continue;
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {} // gone meanwhile
  }
  const below = new Set<number>([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [child, parent] of parents) {
      if (below.has(parent) && !below.has(child)) {
        below.add(child);
        grew = true;
      }
    }
  }
  below.delete(pid);
  return [...below].sort();
}

async function send(c: Case): Promise<{ status: number; body: ErrorJson }> {
  const body =
    c.body === undefined ? undefined : typeof c.body === "string" ? c.body : JSON.stringify(c.body);
  return daemon.api<ErrorJson>(c.path, { method: c.method, body, headers: c.headers });
}

/** One test per group: every case is sent, and every one that went wrong is reported. */
function check(group: string, cases: () => Case[]) {
  test(`${group}: each gets the right 4xx saying what to fix, and leaves nothing behind`, async () => {
    const wrong: string[] = [];
    for (const c of cases()) {
      const before = await snapshot();
      const res = await send(c);
      const message = res.body?.error?.message ?? JSON.stringify(res.body);
      const name = `${c.method} ${c.path.slice(0, 60)} (${c.what})`;
      if (res.status !== c.status || !c.message.test(message)) {
        wrong.push(`${name}: ${res.status} ${message}`);
      }
      const after = await snapshot();
      if (JSON.stringify(after) !== JSON.stringify(before)) {
        wrong.push(`${name}: left something behind: ${JSON.stringify(after).slice(0, 300)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
}

const id = (status: string) => (agents[status] as AgentJson).id;
const create = (body: Record<string, unknown>) => ({
  method: "POST",
  path: "/agents",
  body: { command: FAKE_AGENT_COMMAND, cwd: daemon.home, ...body },
});

describe("POST /agents", () => {
  const names = ["a/b", "..", "a b", "ünïcödé", "x".repeat(65), "a\u0000b", "-lead", ""];
  const envKeys = ["1ABC", "A-B", "A B", "", "AGENTD_TOKEN_FILE", "ÄÖ"];
  const webhooks = [
    "ftp://example.com/x",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "not a url",
  ];
  check("POST /agents", () => [
    {
      what: "malformed JSON",
      method: "POST",
      path: "/agents",
      body: "{not json",
      headers: { "content-type": "application/json" },
      status: 400,
      message: /not valid JSON/,
    },
    {
      what: "a JSON array",
      method: "POST",
      path: "/agents",
      body: [],
      status: 422,
      message: /body must be a JSON object; got \[\]/,
    },
    {
      what: "JSON sent as text/plain",
      method: "POST",
      path: "/agents",
      body: "{}",
      headers: { "content-type": "text/plain" },
      status: 415,
      message: /Content-Type: application\/json/,
    },
    {
      what: "a body over 1 MiB",
      method: "POST",
      path: "/agents",
      body: "x".repeat(1024 * 1024 + 1),
      status: 413,
      message: /over the limit of 1048576 bytes/,
    },
    {
      what: "an unknown field",
      ...create({ colour: "blue" }),
      status: 422,
      message: /body\.colour is not a field here; the fields are: name, prompt/,
    },
    {
      what: "command not an array",
      ...create({ command: "bash" }),
      status: 422,
      message: /body\.command must be an array of strings; got "bash"/,
    },
    {
      what: "an empty command",
      ...create({ command: [] }),
      status: 422,
      message: /body\.command must have at least 1 item/,
    },
    {
      what: "start not a boolean",
      ...create({ start: "yes" }),
      status: 422,
      message: /body\.start must be a boolean; got "yes"/,
    },
    {
      what: "an unknown mode",
      ...create({ mode: "daemon" }),
      status: 422,
      message: /body\.mode must be one of: "run", "persistent"; got "daemon"/,
    },
    {
      what: "extra_args not strings",
      ...create({ extra_args: ["--x", 1] }),
      status: 422,
      message: /body\.extra_args\.1 must be a string; got 1/,
    },
    {
      what: "extra_args not an array",
      ...create({ extra_args: "--x" }),
      status: 422,
      message: /body\.extra_args must be an array of strings/,
    },
    {
      what: "an env value not a string",
      ...create({ env: { A: 1 } }),
      status: 422,
      message: /body\.env\.A must be a string; got 1/,
    },
    {
      what: "an empty model",
      ...create({ model: "" }),
      status: 422,
      message: /body\.model must not be empty/,
    },
    ...names.map((name) => ({
      what: `the name ${JSON.stringify(name)}`,
      ...create({ name }),
      status: 422,
      message:
        /body\.name must be 1-64 characters from A-Z a-z 0-9 \. _ -, starting with a letter or digit/,
    })),
    {
      what: "a prompt with NUL",
      ...create({ prompt: "a\u0000b" }),
      status: 400,
      message: /prompt contains a NUL byte/,
    },
    {
      what: "a prompt over the cap",
      ...create({ prompt: "y".repeat(PROMPT_CAP + 1) }),
      status: 413,
      message: new RegExp(
        `prompt is ${PROMPT_CAP + 1} bytes, over the limit of ${PROMPT_CAP} bytes \\(--max-prompt-bytes\\)`,
      ),
    },
    {
      what: "a blank prompt",
      ...create({ prompt: " \n" }),
      status: 400,
      message: /prompt is empty/,
    },
    {
      what: "a cwd that is a file",
      ...create({ cwd: join(daemon.home, "agentd.db") }),
      status: 400,
      message: /does not exist or is not a directory/,
    },
    {
      what: "a cwd that does not exist",
      ...create({ cwd: "/no/such/dir" }),
      status: 400,
      message: /"\/no\/such\/dir" does not exist/,
    },
    ...envKeys.map((key) => ({
      what: `the env key ${JSON.stringify(key)}`,
      ...create({ env: { [key]: "v" } }),
      status: 400,
      message: /invalid env name|names starting with AGENTD_ are agentd's own/,
    })),
    ...["a\nb", "a\rb", "a\u0000b"].map((value) => ({
      what: `an env value ${JSON.stringify(value)}`,
      ...create({ env: { KEY: value } }),
      status: 400,
      message: /env KEY contains a NUL byte or a line break/,
    })),
    ...webhooks.map((webhook) => ({
      what: `the webhook ${webhook}`,
      ...create({ webhook }),
      status: 400,
      message: /invalid webhook URL .*(not a URL|must start with http:\/\/ or https:\/\/)/,
    })),
    {
      what: "a webhook with credentials",
      ...create({ webhook: "https://user:pw@hooks.example/x" }),
      status: 400,
      message: /carries credentials/,
    },
    {
      what: "a program not on PATH",
      ...create({ command: ["no-such-agent-x"] }),
      status: 400,
      message: /"no-such-agent-x" was not found on PATH/,
    },
    {
      what: "an unknown protocol",
      ...create({ protocol: "carrier-pigeon" }),
      status: 400,
      message: /unknown protocol "carrier-pigeon"; known: /,
    },
    {
      what: "a persistent agent without a name",
      ...create({ mode: "persistent" }),
      status: 400,
      message: /a persistent agent needs a name/,
    },
    {
      what: "a prompt with start: false",
      ...create({ start: false, prompt: "hi" }),
      status: 400,
      message: /leave out start: false/,
    },
    {
      what: "a worktree of a relative path",
      ...create({ cwd: undefined, worktree: { repo: "repo" } }),
      status: 400,
      message: /worktree\.repo must be an absolute path/,
    },
    {
      what: "a worktree that is no repository",
      ...create({ cwd: undefined, worktree: { repo: "/no/such/repo" } }),
      status: 400,
      message: /\/no\/such\/repo/,
    },
    {
      what: "a worktree with an unknown field",
      ...create({ cwd: undefined, worktree: { repo: "/r", path: "/x" } }),
      status: 422,
      message: /body\.worktree\.path is not a field here; the fields are: repo, base, branch/,
    },
    {
      what: "an unknown permissions policy",
      ...create({ permissions: "root" }),
      status: 422,
      message:
        /body\.permissions must be one of: "ask-denied", "allow-all", "read-only"; got "root"/,
    },
    {
      what: "an unknown restart policy",
      ...create({ restart: "sometimes" }),
      status: 422,
      message: /body\.restart must be one of: "no", "on-failure", "always"; got "sometimes"/,
    },
    {
      what: "a restart policy a persistent agent's unit cannot keep",
      ...create({ name: "p-always", mode: "persistent", restart: "always" }),
      status: 400,
      message: /restart "always" is for runs/,
    },
    {
      what: "a turn time limit of 0",
      ...create({ turn_timeout_s: 0 }),
      status: 422,
      message: /body\.turn_timeout_s must be/,
    },
    {
      what: "a negative budget",
      ...create({ budget_usd: -1 }),
      status: 422,
      message: /^body\.budget_usd must be a number from 0 to 1000000000 or null; got -1$/,
    },
    {
      what: "?force=maybe",
      ...create({}),
      path: "/agents?force=maybe",
      status: 422,
      message: /query\.force must be one of: "1", "true", "0", "false"; got "maybe"/,
    },
  ]);
});

describe("reading agents", () => {
  check("reading agents", () => [
    {
      what: "an unknown status filter",
      method: "GET",
      path: "/agents?status=nonsense",
      status: 422,
      message:
        /query\.status must be one of: "pending", "starting", "running", "idle", "stopping", "stopped", "completed", "failed", "lost"; got "nonsense"/,
    },
    {
      what: "an unknown mode filter",
      method: "GET",
      path: "/agents?mode=1",
      status: 422,
      message: /query\.mode must be one of: "run", "persistent"/,
    },
    {
      what: "an unknown id",
      method: "GET",
      path: "/agents/no-such-agent",
      status: 404,
      message: /no agent "no-such-agent"/,
    },
    {
      what: "an id of dots",
      method: "GET",
      path: "/agents/a..b",
      status: 404,
      message: /no agent "a\.\.b"/,
    },
    {
      what: "an id with NUL",
      method: "GET",
      path: "/agents/a%00b",
      status: 404,
      message: /no agent/,
    },
    {
      what: "broken percent-encoding",
      method: "GET",
      path: "/agents/%E0%A4%A",
      status: 422,
      message: /not valid percent-encoded UTF-8/,
    },
    {
      what: "messages of an unknown agent",
      method: "GET",
      path: "/agents/nope/messages",
      status: 404,
      message: /no agent "nope"/,
    },
    {
      what: "turns of an unknown agent",
      method: "GET",
      path: "/agents/nope/turns",
      status: 404,
      message: /no agent "nope"/,
    },
    {
      what: "a limit of 0",
      method: "GET",
      path: `/agents/${id("idle")}/turns?limit=0`,
      status: 422,
      message: /query\.limit must be a whole number from 1 to 1000/,
    },
    {
      what: "a limit that is not a number",
      method: "GET",
      path: `/agents/${id("idle")}/turns?limit=ten`,
      status: 422,
      message: /query\.limit must be a whole number from 1 to 1000/,
    },
    {
      what: "a limit of 1.5",
      method: "GET",
      path: `/agents/${id("idle")}/turns?limit=1.5`,
      status: 422,
      message: /query\.limit must be a whole number/,
    },
    {
      what: "before an unknown turn",
      method: "GET",
      path: `/agents/${id("idle")}/turns?before=nope`,
      status: 404,
      message: /has no turn "nope"/,
    },
    {
      what: "an unknown turn",
      method: "GET",
      path: `/agents/${id("idle")}/turns/nope`,
      status: 404,
      message: /has no turn "nope"/,
    },
    {
      what: "wait=maybe",
      method: "GET",
      path: `/agents/${id("running")}/turns/busy?wait=maybe`,
      status: 422,
      message: /query\.wait must be one of: "1", "true", "0", "false"/,
    },
    {
      what: "a negative timeout",
      method: "GET",
      path: `/agents/${id("running")}/turns/busy?wait=1&timeout_ms=-5`,
      status: 422,
      message: /query\.timeout_ms must be a whole number from 0 to/,
    },
    {
      what: "logs of an unknown agent",
      method: "GET",
      path: "/agents/nope/logs",
      status: 404,
      message: /no agent "nope"/,
    },
    {
      what: "a negative tail",
      method: "GET",
      path: `/agents/${id("idle")}/logs?tail=-1`,
      status: 422,
      message: /query\.tail must be a whole number of at least 0/,
    },
    {
      what: "follow=maybe",
      method: "GET",
      path: `/agents/${id("idle")}/logs?follow=maybe`,
      status: 422,
      message: /query\.follow must be one of/,
    },
    {
      what: "events since a word",
      method: "GET",
      path: "/events?since=yesterday",
      status: 422,
      message: /query\.since must be a whole number of at least 0/,
    },
    {
      what: "events since an overflowing number",
      method: "GET",
      path: "/events?since=1e400",
      status: 422,
      message: /query\.since must be a whole number/,
    },
    {
      what: "a malformed Last-Event-ID",
      method: "GET",
      path: "/events",
      headers: { "last-event-id": "abc" },
      status: 400,
      message: /Last-Event-ID must be an event seq/,
    },
    {
      what: "events of an unknown agent",
      method: "GET",
      path: "/agents/nope/events",
      status: 404,
      message: /no agent "nope"/,
    },
    {
      what: "an unknown route",
      method: "GET",
      path: "/agents/x/y/z",
      status: 404,
      message: /no route for GET \/agents\/x\/y\/z/,
    },
    {
      what: "an unknown method",
      method: "PUT",
      path: `/agents/${id("idle")}`,
      status: 404,
      message: /no route for PUT/,
    },
  ]);
});

describe("PATCH /agents/:id", () => {
  const patch = (body: unknown) => ({ method: "PATCH", path: `/agents/${id("idle")}`, body });
  check("PATCH /agents/:id", () => [
    {
      what: "an unknown agent",
      method: "PATCH",
      path: "/agents/nope",
      body: { model: "m" },
      status: 404,
      message: /no agent "nope"/,
    },
    {
      what: "an unknown field",
      ...patch({ name: "renamed" }),
      status: 422,
      message:
        /body\.name is not a field here; the fields are: provider, model, thinking, extra_args, env, webhook/,
    },
    {
      what: "an empty provider",
      ...patch({ provider: "" }),
      status: 422,
      message: /body\.provider must not be empty/,
    },
    {
      what: "extra_args not strings",
      ...patch({ extra_args: [true] }),
      status: 422,
      message: /body\.extra_args\.0 must be a string; got true/,
    },
    {
      what: "thinking not a string",
      ...patch({ thinking: 5 }),
      status: 422,
      message: /body\.thinking must be a string or null; got 5/,
    },
    {
      what: "a bad env key",
      ...patch({ env: { "bad key": "v" } }),
      status: 400,
      message: /invalid env name "bad key"/,
    },
    {
      what: "an env value with a line break",
      ...patch({ env: { KEY: "a\nb" } }),
      status: 400,
      message: /line break/,
    },
    {
      what: "a webhook of another scheme",
      ...patch({ webhook: "gopher://x" }),
      status: 400,
      message: /must start with http:\/\/ or https:\/\//,
    },
    {
      what: "a webhook with credentials",
      ...patch({ webhook: "http://a:b@x/" }),
      status: 400,
      message: /carries credentials/,
    },
    {
      what: "a form body",
      ...patch("model=x"),
      headers: { "content-type": "application/x-www-form-urlencoded" },
      status: 415,
      message: /send JSON/,
    },
    {
      what: "?force=2",
      ...patch({ model: "m" }),
      path: `/agents/${id("idle")}?force=2`,
      status: 422,
      message: /query\.force must be one of/,
    },
  ]);
});

describe("POST /agents/:id/send", () => {
  const sendTo = (status: string, body: unknown) => ({
    method: "POST",
    path: `/agents/${id(status)}/send`,
    body,
  });
  check("POST /agents/:id/send", () => [
    {
      what: "an unknown agent",
      method: "POST",
      path: "/agents/nope/send",
      body: { message: "hi" },
      status: 404,
      message: /no agent "nope"/,
    },
    {
      what: "no body",
      method: "POST",
      path: `/agents/${id("idle")}/send`,
      status: 422,
      message: /^body is required: send a JSON object$/,
    },
    {
      what: "no message",
      ...sendTo("idle", {}),
      status: 422,
      message: /^body\.message is required$/,
    },
    {
      what: "a message not a string",
      ...sendTo("idle", { message: 5 }),
      status: 422,
      message: /body\.message must be a string; got 5/,
    },
    {
      what: "a message with NUL",
      ...sendTo("idle", { message: "a\u0000b" }),
      status: 400,
      message: /message contains a NUL byte/,
    },
    {
      what: "a blank message",
      ...sendTo("idle", { message: "   " }),
      status: 400,
      message: /message is empty/,
    },
    {
      what: "a message over the cap",
      ...sendTo("idle", { message: "é".repeat(PROMPT_CAP) }),
      status: 413,
      message: new RegExp(
        `message is ${2 * PROMPT_CAP} bytes, over the limit of ${PROMPT_CAP} bytes`,
      ),
    },
    {
      what: "a turn id with a space",
      ...sendTo("idle", { message: "hi", turn_id: "a b" }),
      status: 422,
      message: /body\.turn_id must be 1-128 characters from A-Z a-z 0-9 \. _ : -; got "a b"/,
    },
    {
      what: "a turn id in use",
      ...sendTo("running", { message: "hi", turn_id: "busy" }),
      status: 409,
      message: /already has a turn "busy"/,
    },
    {
      what: "wait not a boolean",
      ...sendTo("idle", { message: "hi", wait: "yes" }),
      status: 422,
      message: /body\.wait must be a boolean/,
    },
    {
      what: "a negative timeout",
      ...sendTo("idle", { message: "hi", timeout_ms: -1 }),
      status: 422,
      message: /body\.timeout_ms must be at least 0; got -1/,
    },
    {
      what: "a fractional timeout",
      ...sendTo("idle", { message: "hi", timeout_ms: 1.5 }),
      status: 422,
      message: /body\.timeout_ms must be a whole number from 0 to 2147483647; got 1\.5/,
    },
    {
      what: "metadata not an object",
      ...sendTo("idle", { message: "hi", metadata: "x" }),
      status: 422,
      message: /body\.metadata must be a JSON object; got "x"/,
    },
    {
      what: "an unknown field",
      ...sendTo("idle", { message: "hi", priority: 1 }),
      status: 422,
      message: /body\.priority is not a field here/,
    },
    ...["pending", "stopped", "completed", "failed", "lost"].map((status) => ({
      what: `a ${status} agent`,
      ...sendTo(status, { message: "hi" }),
      status: 409,
      message: new RegExp(`is ${status}; it takes prompts only while running or idle`),
    })),
  ]);
});

describe("lifecycle in the wrong state", () => {
  const op = (action: string, status: string, query = "") => ({
    method: "POST",
    path: `/agents/${id(status)}/${action}${query}`,
  });
  check("lifecycle in the wrong state", () => [
    ...["idle", "running"].map((status) => ({
      what: `start a ${status} agent`,
      ...op("start", status),
      status: 409,
      message: new RegExp(`is already ${status}`),
    })),
    {
      what: "cancel a turn of a protocol that cannot",
      method: "POST",
      path: `/agents/${id("running")}/turns/busy/cancel`,
      status: 409,
      message: /cannot cancel a turn; stop the agent instead/,
    },
    {
      what: "cancel an unknown turn",
      method: "POST",
      path: `/agents/${id("running")}/turns/nope/cancel`,
      status: 404,
      message: /has no turn "nope"/,
    },
    ...["start", "stop", "restart"].map((action) => ({
      what: `${action} an unknown agent`,
      method: "POST",
      path: `/agents/nope/${action}`,
      status: 404,
      message: /no agent "nope"/,
    })),
    {
      what: "stop with grace_ms=-1",
      ...op("stop", "idle", "?grace_ms=-1"),
      status: 422,
      message: /query\.grace_ms must be a whole number from 0 to 3600000/,
    },
    {
      what: "stop with grace_ms=soon",
      ...op("stop", "idle", "?grace_ms=soon"),
      status: 422,
      message: /query\.grace_ms must be a whole number from 0 to 3600000/,
    },
    {
      what: "restart with grace_ms too long",
      ...op("restart", "idle", "?grace_ms=3600001"),
      status: 422,
      message: /query\.grace_ms must be a whole number from 0 to 3600000/,
    },
    {
      what: "restart with force=yes",
      ...op("restart", "idle", "?force=yes"),
      status: 422,
      message: /query\.force must be one of/,
    },
    {
      what: "start with force=yes",
      ...op("start", "stopped", "?force=yes"),
      status: 422,
      message: /query\.force must be one of/,
    },
    {
      what: "delete an unknown agent",
      method: "DELETE",
      path: "/agents/nope",
      status: 404,
      message: /no agent "nope"/,
    },
  ]);
});

describe("usage and prices", () => {
  check("usage and prices", () => [
    {
      what: "an unknown grouping",
      method: "GET",
      path: "/usage?group_by=week",
      status: 422,
      message: /query\.group_by must be one of: "agent", "model", "day", "protocol"; got "week"/,
    },
    {
      what: "a time that is none",
      method: "GET",
      path: "/usage?since=yesterday",
      status: 400,
      message: /since "yesterday" is not an ISO time .* or a duration back from now/,
    },
    {
      what: "prices that are not a table",
      method: "PUT",
      path: "/prices",
      body: [1, 2],
      status: 422,
      message: /body must be a JSON object; got \[1,2\]/,
    },
    {
      what: "a negative price",
      method: "PUT",
      path: "/prices",
      body: { m1: { input_usd_per_mtok: -1, output_usd_per_mtok: 1 } },
      status: 422,
      message: /body\.m1\.input_usd_per_mtok must be at least 0; got -1/,
    },
    {
      what: "a price with an unknown field",
      method: "PUT",
      path: "/prices",
      body: { m1: { input_usd_per_mtok: 1, output_usd_per_mtok: 1, currency: "EUR" } },
      status: 422,
      message: /body\.m1\.currency is not a field here/,
    },
    {
      what: "prices sent as a form",
      method: "PUT",
      path: "/prices",
      body: "m1=1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      status: 415,
      message: /send JSON with Content-Type: application\/json/,
    },
  ]);
});

describe("POST /workspaces/gc", () => {
  const gc = (body: unknown) => ({ method: "POST", path: "/workspaces/gc", body });
  check("POST /workspaces/gc", () => [
    {
      what: "an age that is no duration",
      ...gc({ older_than: "soon" }),
      status: 400,
      message: /older_than "soon" is not a duration: use a number and w, d, h, m or s/,
    },
    {
      what: "an age that is a number",
      ...gc({ older_than: 7 }),
      status: 422,
      message: /body\.older_than must be a string; got 7/,
    },
    {
      what: "dry_run not a boolean",
      ...gc({ dry_run: "yes" }),
      status: 422,
      message: /body\.dry_run must be a boolean/,
    },
    {
      what: "an unknown field",
      ...gc({ force: true }),
      status: 422,
      message: /body\.force is not a field here; the fields are: older_than, dry_run/,
    },
    {
      what: "malformed JSON",
      ...gc("nope"),
      headers: { "content-type": "application/json" },
      status: 400,
      message: /not valid JSON/,
    },
  ]);
});

test("nothing above was answered with a 500, and the daemon logged no error", () => {
  expect(daemon.stderr()).not.toMatch(/ 5\d\d \d+(\.\d+)?ms| ERROR /);
});
