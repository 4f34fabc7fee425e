import { accessSync, constants, existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { CreateAgentInput, PatchAgentInput } from "../api/schemas.ts";
import { SETTINGS } from "../config.ts";
import { BadRequestError } from "../errors.ts";
import type { ProtocolDriver } from "../protocols/session.ts";
import type { AgentPatch, AgentRecord, NewAgent } from "../store/agents.ts";
import type { WorkspaceRequest } from "../workspace/agent-workspaces.ts";
import { usdToMicro } from "./budget.ts";
import { defaultProgram } from "./launch.ts";
import type { RestartPolicy } from "./status.ts";
import { checkArgs, checkEnv, checkName, checkPrompt, checkWebhook } from "./validation.ts";

export const DEFAULT_PROTOCOL = "omni";
export const DEFAULT_PROVIDER = "auto";
export const DEFAULT_MODEL = "auto";

/**
 * A create request, checked: the new agent's record but for its cwd, which is the path of the
 * workspace made from `workspace` (nothing is made on disk until every field has passed).
 */
export interface CheckedCreate {
  agent: Omit<NewAgent, "cwd">;
  workspace: WorkspaceRequest;
}

/**
 * Every field of a create request checked, defaults filled, the program resolved to an absolute
 * path. Its id, name and restart policy are its runtime's choice.
 */
export function newAgentFrom(
  input: CreateAgentInput,
  context: {
    driver: ProtocolDriver;
    defaultCommand: string;
    defaultBudgetUsd: number | null;
    /** The protocols known, for a message about a program that is missing. */
    protocols: string[];
    /** How prompts travel when the request does not say (the daemon's --prompt-framing). */
    defaultTurnEnvelope: boolean;
    maxPromptBytes: number;
    identify: (name: string | undefined) => { id: string; name: string };
    restartPolicy: (requested: RestartPolicy | undefined) => RestartPolicy;
  },
): CheckedCreate {
  const identity = context.identify(input.name === undefined ? undefined : checkName(input.name));
  if (input.webhook !== undefined) checkWebhook(input.webhook);
  if (input.prompt !== undefined) checkPrompt(input.prompt, "prompt", context.maxPromptBytes);
  const cwd = input.cwd === undefined ? undefined : checkCwd(input.cwd);
  const command = input.command ?? [defaultProgram(context.driver, context.defaultCommand)];
  const missing = (program: string) =>
    input.command !== undefined
      ? `agent command "${program}" was not found on PATH; give its absolute path`
      : missingDefault(program, context.driver, context.protocols);
  const budget = input.budget_usd === undefined ? context.defaultBudgetUsd : input.budget_usd;
  const agent: Omit<NewAgent, "cwd"> = {
    ...identity,
    mode: input.mode ?? "run",
    status: "pending",
    protocol: context.driver.name,
    // A relative program path is the caller's: relative to the cwd it gave, else to agentd's.
    command: resolveCommand(command, cwd ?? process.cwd(), missing),
    provider: input.provider ?? DEFAULT_PROVIDER,
    model: input.model ?? DEFAULT_MODEL,
    thinking: input.thinking ?? null,
    extra_args: checkArgs(input.extra_args ?? []),
    env: checkEnv(input.env ?? {}),
    webhook: input.webhook ?? null,
    turn_envelope: input.turn_envelope ?? context.defaultTurnEnvelope,
    permissions: input.permissions ?? "ask-denied",
    prompt: input.prompt ?? null,
    budget_micro_usd: budget === null ? null : usdToMicro(budget),
    budget_action: input.budget_action ?? "finish",
    restart: context.restartPolicy(input.restart),
    turn_timeout_s: input.turn_timeout_s ?? null,
    turn_idle_timeout_s: input.turn_idle_timeout_s ?? null,
  };
  return { agent, workspace: { cwd, worktree: input.worktree } };
}

/** Why no program was found when the request named none, and every way to give one. */
function missingDefault(program: string, driver: ProtocolDriver, protocols: string[]): string {
  const { flag, env } = SETTINGS.agentCommand;
  const whose =
    driver.command === null
      ? `the daemon's default agent command "${program}" (--${flag} / ${env})`
      : `the ${driver.name} driver's program "${program}"`;
  const ways = [
    `with "command" (agentd spawn --command "PROGRAM ARGS")`,
    ...(driver.command === null ? [`with the daemon's --${flag} PROGRAM or ${env}`] : []),
    `with "protocol" for a driver whose CLI is installed (${protocols.join(", ")})`,
  ];
  return `no agent program was given, and ${whose} is not on the daemon's PATH. Give one ${ways.join(", ")}; or try agentd without an LLM: agentd spawn --command "agentd echo-agent" hello`;
}

/** The checked changes of a PATCH; null clears an optional field. */
export function checkPatch(
  input: PatchAgentInput,
  restartPolicy: (requested: RestartPolicy) => RestartPolicy,
): AgentPatch {
  const changes: AgentPatch = {};
  if (input.provider !== undefined) changes.provider = input.provider;
  if (input.model !== undefined) changes.model = input.model;
  if (input.thinking !== undefined) changes.thinking = input.thinking;
  if (input.permissions !== undefined) changes.permissions = input.permissions;
  if (input.extra_args !== undefined) changes.extra_args = checkArgs(input.extra_args);
  if (input.env !== undefined) changes.env = checkEnv(input.env);
  if (input.webhook !== undefined) {
    changes.webhook = input.webhook === null ? null : checkWebhook(input.webhook);
  }
  if (input.budget_usd !== undefined) {
    changes.budget_micro_usd = input.budget_usd === null ? null : usdToMicro(input.budget_usd);
  }
  if (input.budget_action !== undefined) changes.budget_action = input.budget_action;
  if (input.restart !== undefined) changes.restart = restartPolicy(input.restart);
  if (input.turn_timeout_s !== undefined) changes.turn_timeout_s = input.turn_timeout_s;
  if (input.turn_idle_timeout_s !== undefined) {
    changes.turn_idle_timeout_s = input.turn_idle_timeout_s;
  }
  return changes;
}

/** Config the agent's process is started with: changing it needs a restart. */
const LAUNCH_FIELDS = [
  "provider",
  "model",
  "thinking",
  "extra_args",
  "env",
  "permissions",
] as const;

export function changesLaunch(before: AgentRecord, after: AgentRecord): boolean {
  return LAUNCH_FIELDS.some(
    (field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]),
  );
}

function checkCwd(cwd: string): string {
  const path = resolve(cwd);
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new BadRequestError(`cwd "${cwd}" does not exist or is not a directory`);
  }
  return path;
}

/** The argv with its program resolved to an absolute, executable path. */
function resolveCommand(
  command: string[],
  cwd: string,
  missing: (program: string) => string,
): string[] {
  const [program, ...args] = command;
  if (!program) throw new BadRequestError("command must name a program");
  let path: string | null;
  if (program.includes("/")) {
    path = isAbsolute(program) ? program : resolve(cwd, program);
    if (!existsSync(path)) throw new BadRequestError(`agent command "${program}" does not exist`);
  } else {
    path = Bun.which(program);
    if (path === null) throw new BadRequestError(missing(program));
  }
  try {
    if (!statSync(path).isFile()) throw new Error("not a file");
    accessSync(path, constants.X_OK);
  } catch {
    throw new BadRequestError(`agent command "${program}" is not an executable file`);
  }
  return [path, ...args];
}
