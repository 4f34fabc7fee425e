import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { AgentView, DeleteResult } from "../api/schemas.ts";
import { agentFields, agentTable } from "./agent-format.ts";
import { type FlagSpecs, UsageError, wholeNumber } from "./args.ts";
import { clientFrom, JSON_FLAG, URL_FLAG } from "./client.ts";
import { defineCommand } from "./command.ts";
import { printJson } from "./output.ts";
import { copyToStdout } from "./stream.ts";

/** The agent commands: each is one HTTP request to the daemon, printed for people or as JSON. */

export const spawnCommand = defineCommand({
  name: "spawn",
  summary: "create and start an agent, optionally with a first prompt",
  synopsis: "spawn [flags] [PROMPT...] [-- EXTRA_ARGS...]",
  description:
    "Words before a bare `--` form the first prompt, joined with spaces; everything after it\nis passed to the agent as extra arguments. Prints the new agent's id.\n\n" +
    "The agent works in --cwd, used as it is; or, with --worktree, in a new git worktree of REPO\n" +
    "on a new branch (--branch, else agentd/ID) started from BASE (else REPO's HEAD); otherwise\n" +
    "in a directory of its own under the daemon's --workspace.",
  flags: {
    name: { kind: "string", value: "NAME", help: "name; the id is NAME-<random>" },
    mode: { kind: "string", value: "MODE", help: "run (a child of the daemon) or persistent" },
    protocol: { kind: "string", value: "PROTOCOL", help: "the agent's wire protocol (omni)" },
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
    command: {
      kind: "string",
      value: "CMD",
      help: "agent program and arguments, split on spaces (the daemon's default)",
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
  synopsis: "ls [--status STATUS] [--mode MODE]",
  flags: {
    status: { kind: "string", value: "STATUS", help: "only agents with this status" },
    mode: { kind: "string", value: "MODE", help: "only run or only persistent agents" },
    ...URL_FLAG,
    ...JSON_FLAG,
  },
  async run({ flags, positionals }) {
    noArguments(positionals);
    const query = { status: flags.status, mode: flags.mode };
    const agents = await clientFrom(flags).json<AgentView[]>("GET", "/agents", { query });
    if (flags.json) printJson(agents);
    else process.stdout.write(agentTable(agents));
    return 0;
  },
});

export const showCommand = defineCommand({
  name: "show",
  summary: "show one agent: status, turns, cost, summary",
  synopsis: "show ID",
  flags: { ...URL_FLAG, ...JSON_FLAG },
  async run({ flags, positionals }) {
    const id = agentId(positionals);
    const agent = await clientFrom(flags).json<AgentView>("GET", agentPath(id));
    if (flags.json) printJson(agent);
    else process.stdout.write(agentFields(agent));
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
    synopsis: `${action} ID${graceful ? " [--grace MS]" : ""}${rewrites ? " [--force]" : ""}`,
    flags: {
      ...(graceful ? GRACE_FLAG : {}),
      ...(rewrites ? FORCE_FLAG : {}),
      ...URL_FLAG,
      ...JSON_FLAG,
    },
    async run({ flags, positionals }) {
      const id = agentId(positionals);
      const query = {
        grace_ms: flags.grace === undefined ? undefined : wholeNumber("grace", flags.grace),
        force: flags.force ? "1" : undefined,
      };
      const agent = await clientFrom(flags).json<AgentView>("POST", `${agentPath(id)}/${action}`, {
        query,
      });
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

export const rmCommand = defineCommand({
  name: "rm",
  summary: "remove an agent (stopping it first), with its workspace, turns, messages and logs",
  synopsis: "rm ID [--force]",
  description:
    "An agent whose worktree or directory holds uncommitted files, or commits on no other branch\n" +
    "or remote, is not removed (nor stopped): the answer lists that work. --force removes it\n" +
    "anyway. A --cwd the agent was given is never touched.",
  flags: {
    force: { kind: "boolean", help: "remove the workspace even if that loses work" },
    ...URL_FLAG,
    ...JSON_FLAG,
  },
  async run({ flags, positionals }) {
    const id = agentId(positionals);
    const query = { force: flags.force ? "1" : undefined };
    const result = await clientFrom(flags).json<DeleteResult>("DELETE", agentPath(id), { query });
    if (flags.json) printJson(result);
    else process.stdout.write(removalSummary(result));
    return 0;
  },
});

export const logsCommand = defineCommand({
  name: "logs",
  summary: "print an agent's raw log; -f follows it as it grows",
  synopsis: "logs ID [--tail N] [-f]",
  description: "With -f, the log is printed as it grows, until the agent stops.",
  flags: {
    tail: { kind: "string", value: "N", help: "only the last N lines" },
    follow: { kind: "boolean", short: "f", help: "keep printing what is appended" },
    ...URL_FLAG,
  },
  async run({ flags, positionals }) {
    const id = agentId(positionals);
    const query = {
      tail: flags.tail === undefined ? undefined : wholeNumber("tail", flags.tail),
      follow: flags.follow ? 1 : undefined,
    };
    const response = await clientFrom(flags).request("GET", `${agentPath(id)}/logs`, {
      query,
      mayIdle: flags.follow,
    });
    await copyToStdout(response);
    return 0;
  },
});

export function agentPath(id: string): string {
  return `/agents/${encodeURIComponent(id)}`;
}

function agentId(positionals: string[]): string {
  const [id, ...extra] = positionals;
  if (id === undefined || extra.length > 0) throw new UsageError("expected exactly one agent ID");
  return id;
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
  const argv = command.split(/\s+/).filter((word) => word !== "");
  if (argv.length === 0) throw new UsageError("--command must name a program");
  return argv;
}
