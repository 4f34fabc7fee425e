import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { AgentView, DeleteResult, PatchAgentInput } from "../api/schemas.ts";
import { agentFields, agentTable, failureReport } from "./agent-format.ts";
import { agentPath, resolveAgent, resolveAgentId } from "./agent-ref.ts";
import { type FlagSpecs, UsageError, wholeNumber } from "./args.ts";
import { clientFrom, DaemonRefusal, JSON_FLAG, URL_FLAG } from "./client.ts";
import { defineCommand } from "./command.ts";
import { printJson } from "./output.ts";
import { shellWords } from "./shell-words.ts";
import { copyToStdout } from "./stream.ts";

/** The agent commands: each is one HTTP request to the daemon, printed for people or as JSON. */

/** How many log lines `show` looks through for a failed agent's last stderr lines. */
const FAILURE_LOG_LINES = 200;

export const spawnCommand = defineCommand({
  name: "spawn",
  summary: "create and start an agent, optionally with a first prompt",
  synopsis: "spawn [flags] [PROMPT...] [-- EXTRA_ARGS...]",
  description: [
    "Words before a bare `--` form the first prompt, joined with spaces; everything after it",
    "is passed to the agent as extra arguments. --command is split as sh would split it",
    `(quotes, backslashes, $VARS), e.g. --command "sh -c 'exec my-agent --fast'". Prints the`,
    "new agent's id.",
    "",
    "The agent works in --cwd, used as it is; or, with --worktree, in a new git worktree of REPO",
    "on a new branch (--branch, else agentd/ID) started from BASE (else REPO's HEAD); otherwise",
    "in a directory of its own under the daemon's --workspace.",
  ].join("\n"),
  flags: {
    name: { kind: "string", value: "NAME", help: "name; the id is NAME-<random>" },
    mode: { kind: "string", value: "MODE", help: "run (a child of the daemon) or persistent" },
    protocol: {
      kind: "string",
      value: "PROTOCOL",
      help: "the agent's wire protocol: omni, claude, codex, pi or acp",
    },
    provider: { kind: "string", value: "PROVIDER", help: "LLM provider passed to the agent" },
    model: { kind: "string", value: "MODEL", help: "model passed to the agent" },
    thinking: { kind: "string", value: "LEVEL", help: "thinking level passed to the agent" },
    permissions: {
      kind: "string",
      value: "POLICY",
      help: "tool permissions: ask-denied (default), allow-all or read-only",
    },
    cwd: { kind: "string", value: "DIR", help: "work in this directory (a directory of its own)" },
    worktree: {
      kind: "string",
      value: "REPO[@BASE]",
      help: "work in a new git worktree of REPO, started from BASE",
    },
    branch: { kind: "string", value: "BRANCH", help: "the worktree's new branch (agentd/ID)" },
    env: { kind: "list", value: "K=V", help: "environment variable for the agent" },
    webhook: { kind: "string", value: "URL", help: "http(s) URL notified when turns end" },
    "budget-usd": {
      kind: "string",
      value: "USD",
      help: "what the agent may spend, e.g. 5 (the daemon's --default-budget-usd)",
    },
    command: {
      kind: "string",
      value: "CMD",
      help: "agent program and arguments, quoted as for sh (the daemon's default)",
    },
    "no-start": { kind: "boolean", help: "create the agent without starting it" },
    ...URL_FLAG,
    ...JSON_FLAG,
  },
  async run({ flags, positionals, rest }) {
    const body = {
      name: flags.name,
      mode: flags.mode,
      protocol: flags.protocol,
      provider: flags.provider,
      model: flags.model,
      thinking: flags.thinking,
      permissions: flags.permissions,
      cwd: flags.cwd === undefined ? undefined : resolve(flags.cwd),
      worktree: worktreeRequest(flags.worktree, flags.branch),
      env: flags.env === undefined ? undefined : envMap(flags.env),
      webhook: flags.webhook,
      budget_usd:
        flags["budget-usd"] === undefined ? undefined : dollars("budget-usd", flags["budget-usd"]),
      command: flags.command === undefined ? undefined : commandArgv(flags.command),
      start: flags["no-start"] ? false : undefined,
      prompt: positionals.length > 0 ? positionals.join(" ") : undefined,
      extra_args: rest.length > 0 ? rest : undefined,
    };
    const agent = await clientFrom(flags).json<AgentView>("POST", "/agents", { body });
    if (flags.json) printJson(agent);
    else process.stdout.write(`${agent.id}\n`);
    return 0;
  },
});

export const lsCommand = defineCommand({
  name: "ls",
  summary: "list agents",
  synopsis: "ls [--status STATUS] [--mode MODE] [-q]",
  flags: {
    status: { kind: "string", value: "STATUS", help: "only agents with this status" },
    mode: { kind: "string", value: "MODE", help: "only run or only persistent agents" },
    quiet: { kind: "boolean", short: "q", help: "only the ids, one per line" },
    ...URL_FLAG,
    ...JSON_FLAG,
  },
  async run({ flags, positionals }) {
    noArguments(positionals);
    const query = { status: flags.status, mode: flags.mode };
    const agents = await clientFrom(flags).all<AgentView>("/agents", { query });
    if (flags.json) printJson(agents);
    else if (flags.quiet) process.stdout.write(agents.map((agent) => `${agent.id}\n`).join(""));
    else process.stdout.write(agentTable(agents));
    return 0;
  },
});

export const showCommand = defineCommand({
  name: "show",
  summary: "show one agent: status, turns, cost, budget, summary; why it failed",
  synopsis: "show AGENT",
  description: `AGENT is an id, a name, or the start of an id. For a failed agent, its last stderr\nlines follow (from the last ${FAILURE_LOG_LINES} lines of its log).`,
  takesAgent: true,
  flags: { ...URL_FLAG, ...JSON_FLAG },
  async run({ flags, positionals }) {
    const client = clientFrom(flags);
    const agent = await resolveAgent(client, agentRef(positionals));
    if (flags.json) {
      printJson(agent);
      return 0;
    }
    process.stdout.write(agentFields(agent));
    if (agent.status === "failed" || agent.status === "lost") {
      const log = await client.request("GET", `${agentPath(agent.id)}/logs`, {
        query: { tail: FAILURE_LOG_LINES },
      });
      process.stdout.write(failureReport(agent, await log.text()));
    }
    return 0;
  },
});

const GRACE_FLAG = {
  grace: {
    kind: "string",
    value: "MS",
    help: "milliseconds from SIGTERM to SIGKILL for runs (the daemon's default)",
  },
} as const satisfies FlagSpecs;

const FORCE_FLAG = {
  force: { kind: "boolean", help: "persistent agents: overwrite hand-edited generated files" },
} as const satisfies FlagSpecs;

/** stop, start and restart: one POST to the agent's lifecycle route, printing its new status. */
function lifecycleCommand(action: "stop" | "start" | "restart", summary: string) {
  const graceful = action !== "start";
  const rewrites = action !== "stop";
  return defineCommand({
    name: action,
    summary,
    synopsis: `${action} AGENT${graceful ? " [--grace MS]" : ""}${rewrites ? " [--force]" : ""}`,
    takesAgent: true,
    flags: {
      ...(graceful ? GRACE_FLAG : {}),
      ...(rewrites ? FORCE_FLAG : {}),
      ...URL_FLAG,
      ...JSON_FLAG,
    },
    async run({ flags, positionals }) {
      const query = {
        grace_ms: flags.grace === undefined ? undefined : wholeNumber("grace", flags.grace),
        force: flags.force ? "1" : undefined,
      };
      const client = clientFrom(flags);
      const id = await resolveAgentId(client, agentRef(positionals));
      const agent = await client.json<AgentView>("POST", `${agentPath(id)}/${action}`, { query });
      if (flags.json) printJson(agent);
      else process.stdout.write(`${agent.id} ${agent.status}\n`);
      return 0;
    },
  });
}

export const stopCommand = lifecycleCommand(
  "stop",
  "stop an agent: SIGTERM, then SIGKILL after a grace period",
);
export const startCommand = lifecycleCommand("start", "start a stopped agent again");
export const restartCommand = lifecycleCommand("restart", "stop an agent, then start it again");

/** Statuses `rm --stopped` removes: the agent's process is over (a pending one never ran). */
const STOPPED_STATUSES = new Set(["stopped", "completed", "failed", "lost"]);

export const rmCommand = defineCommand({
  name: "rm",
  summary: "remove agents (stopping them first), with their workspaces, turns, messages and logs",
  synopsis: "rm AGENT... | rm --stopped [--force]",
  description: [
    "--stopped removes every agent whose process is over: stopped, completed, failed or lost.",
    "An agent whose worktree or directory holds uncommitted files, or commits on no other branch",
    "or remote, is kept (not even stopped) and the daemon's answer lists that work; the others",
    "are removed all the same, and the exit code is 1. --force removes it anyway. A --cwd the",
    "agent was given is never touched.",
  ].join("\n"),
  takesAgent: true,
  flags: {
    stopped: { kind: "boolean", help: "every agent whose process is over" },
    force: { kind: "boolean", help: "also remove workspaces holding work that would be lost" },
    ...URL_FLAG,
    ...JSON_FLAG,
  },
  async run({ flags, positionals }) {
    if (flags.stopped && positionals.length > 0) {
      throw new UsageError("give agents or --stopped, not both");
    }
    if (!flags.stopped && positionals.length === 0) {
      throw new UsageError("expected AGENT... or --stopped");
    }
    const client = clientFrom(flags);
    const ids = flags.stopped
      ? (await client.all<AgentView>("/agents"))
          .filter((agent) => STOPPED_STATUSES.has(agent.status))
          .map((agent) => agent.id)
      : await Promise.all(positionals.map((ref) => resolveAgentId(client, ref)));
    const results: DeleteResult[] = [];
    let refused = 0;
    for (const id of ids) {
      try {
        const query = { force: flags.force ? "1" : undefined };
        const result = await client.json<DeleteResult>("DELETE", agentPath(id), { query });
        results.push(result);
        if (!flags.json) process.stdout.write(removalSummary(result));
      } catch (error) {
        if (!(error instanceof DaemonRefusal) || error.status !== 409) throw error;
        refused++;
        process.stderr.write(`agentd: kept ${id}: ${error.message}\n`);
      }
    }
    if (flags.json) printJson(results);
    else if (ids.length === 0) process.stdout.write("no stopped agents\n");
    if (refused > 0 && !flags.force) {
      process.stderr.write(`agentd: ${refused} kept; add --force to remove them anyway\n`);
    }
    return refused > 0 ? 1 : 0;
  },
});

/** What `set` may change, and how a value is written on the command line. */
const SETTABLE: Record<string, (value: string, agent: AgentView) => Partial<PatchAgentInput>> = {
  provider: (value) => ({ provider: value }),
  model: (value) => ({ model: value }),
  thinking: (value) => ({ thinking: value === "" ? null : value }),
  webhook: (value) => ({ webhook: value === "" ? null : value }),
  extra_args: (value) => ({ extra_args: shellWords("extra_args", value) }),
  budget_usd: (value) => ({
    budget_usd: value === "" || value === "none" ? null : dollars("budget_usd", value),
  }),
  budget_action: (value) => {
    if (value !== "finish" && value !== "cancel") {
      throw new UsageError(`budget_action is finish or cancel, got "${value}"`);
    }
    return { budget_action: value };
  },
};

export const setCommand = defineCommand({
  name: "set",
  summary: "change an agent's config: model, budget, env, webhook…",
  synopsis: "set AGENT KEY=VALUE... [--force]",
  description: [
    `KEY is one of ${Object.keys(SETTABLE).join(", ")}, or env.NAME for one environment`,
    "variable. An empty VALUE clears thinking, webhook, budget_usd (also `none`) and env.NAME.",
    "extra_args is split as sh would split it. A running agent keeps its old config until it",
    "is restarted (budgets apply at once); the answer says when a restart is needed.",
  ].join("\n"),
  takesAgent: true,
  flags: { ...FORCE_FLAG, ...URL_FLAG, ...JSON_FLAG },
  async run({ flags, positionals }) {
    const [ref, ...assignments] = positionals;
    if (ref === undefined || assignments.length === 0) {
      throw new UsageError("expected AGENT and at least one KEY=VALUE");
    }
    const client = clientFrom(flags);
    const agent = await resolveAgent(client, ref);
    const body = patchFrom(assignments, agent);
    const result = await client.json<{ agent: AgentView; restart_required: boolean }>(
      "PATCH",
      agentPath(agent.id),
      { body, query: { force: flags.force ? "1" : undefined } },
    );
    if (flags.json) {
      printJson(result);
      return 0;
    }
    process.stdout.write(`${agent.id}: changed ${Object.keys(body).join(", ")}\n`);
    if (result.restart_required) {
      process.stdout.write(
        `it runs with the old config until restarted: agentd restart ${agent.id}\n`,
      );
    }
    return 0;
  },
});

export const logsCommand = defineCommand({
  name: "logs",
  summary: "print an agent's raw log; -f follows it as it grows",
  synopsis: "logs AGENT [--tail N] [-f]",
  description: "With -f, the log is printed as it grows, until the agent stops.",
  takesAgent: true,
  flags: {
    tail: { kind: "string", value: "N", help: "only the last N lines" },
    follow: { kind: "boolean", short: "f", help: "keep printing what is appended" },
    ...URL_FLAG,
  },
  async run({ flags, positionals }) {
    const query = {
      tail: flags.tail === undefined ? undefined : wholeNumber("tail", flags.tail),
      follow: flags.follow ? 1 : undefined,
    };
    const client = clientFrom(flags);
    const id = await resolveAgentId(client, agentRef(positionals));
    const response = await client.request("GET", `${agentPath(id)}/logs`, {
      query,
      mayIdle: flags.follow,
    });
    await copyToStdout(response);
    return 0;
  },
});

/** The one agent a command is about, as typed (an id, a name or an id's start). */
export function agentRef(positionals: string[]): string {
  const [ref, ...extra] = positionals;
  if (ref === undefined || extra.length > 0) throw new UsageError("expected exactly one AGENT");
  return ref;
}

function noArguments(positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
}

/** `--env K=V` flags as the API's map; the value may itself contain `=`. */
function envMap(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--env takes NAME=VALUE, got "${pair}"`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

function removalSummary(result: DeleteResult): string {
  const workspace = result.workspace;
  if (workspace === null) return `${result.id} removed\n`;
  const what = workspace.removed ? `with its ${workspace.kind} ${workspace.path}` : "";
  const note = workspace.note === null ? "" : `; kept: ${workspace.note}`;
  return `${result.id} removed${what && ` ${what}`}${note}\n`;
}

/**
 * `--worktree REPO[@BASE]` as the API's request; REPO made absolute here, where it was meant.
 * REPO itself may hold an `@` when it names an existing directory whole.
 */
export function worktreeRequest(
  spec: string | undefined,
  branch: string | undefined,
): { repo: string; base?: string; branch?: string } | undefined {
  if (spec === undefined) {
    if (branch !== undefined)
      throw new UsageError("--branch names a worktree's branch: give --worktree too");
    return undefined;
  }
  const at = spec.lastIndexOf("@");
  const whole = isDirectory(resolve(spec));
  const repo = at <= 0 || whole ? spec : spec.slice(0, at);
  const base = at <= 0 || whole ? undefined : spec.slice(at + 1);
  if (base === "")
    throw new UsageError(`--worktree ${spec}: nothing after @; give REPO or REPO@BASE`);
  return {
    repo: resolve(repo),
    ...(base === undefined ? {} : { base }),
    ...(branch === undefined ? {} : { branch }),
  };
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

function commandArgv(command: string): string[] {
  const argv = shellWords("command", command);
  if (argv.length === 0 || argv[0] === "") throw new UsageError("--command must name a program");
  return argv;
}

function dollars(flag: string, value: string): number {
  const amount = Number(value);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(value) || !Number.isFinite(amount)) {
    throw new UsageError(
      `${flag} must be an amount of US dollars such as 5 or 0.25, got "${value}"`,
    );
  }
  return amount;
}

/** `KEY=VALUE` words as a PATCH body; env.NAME changes one variable of the agent's env. */
function patchFrom(assignments: string[], agent: AgentView): PatchAgentInput {
  const body: PatchAgentInput = {};
  for (const assignment of assignments) {
    const eq = assignment.indexOf("=");
    if (eq <= 0) throw new UsageError(`expected KEY=VALUE, got "${assignment}"`);
    const key = assignment.slice(0, eq);
    const value = assignment.slice(eq + 1);
    if (key.startsWith("env.") && key.length > 4) {
      const env = { ...(body.env ?? agent.env) };
      if (value === "") delete env[key.slice(4)];
      else env[key.slice(4)] = value;
      body.env = env;
      continue;
    }
    const setting = SETTABLE[key];
    if (setting === undefined) {
      throw new UsageError(
        `cannot set "${key}"; settable: ${Object.keys(SETTABLE).join(", ")}, env.NAME`,
      );
    }
    Object.assign(body, setting(value, agent));
  }
  return body;
}
