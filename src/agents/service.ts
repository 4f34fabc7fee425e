import type { Database } from "bun:sqlite";
import { accessSync, constants, existsSync, rmSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { Config } from "../config.ts";
import { BadRequestError, ConflictError, errorMessage, NotFoundError } from "../errors.ts";
import type { EventBus } from "../events/bus.ts";
import { log } from "../log.ts";
import { PersistentAgents } from "../persistent/manager.ts";
import type { ProtocolDriver } from "../protocols/events.ts";
import { PROTOCOL_NAMES, protocolDriver } from "../protocols/index.ts";
import {
  type AgentFilter,
  type AgentMode,
  type AgentPatch,
  type AgentRecord,
  type AgentStatus,
  countAgentsByStatus,
  deleteAgent,
  getAgent,
  LIVE_STATUSES,
  listAgents,
  type NewAgent,
  updateAgent,
} from "../store/agents.ts";
import { listMessages, type MessageRecord } from "../store/messages.ts";
import { nowIso } from "../store/time.ts";
import {
  getTurn,
  insertTurn,
  isOpenTurn,
  listTurns,
  type TurnPage,
  type TurnRecord,
  turnExists,
} from "../store/turns.ts";
import type { ExitResult } from "../supervisor/run.ts";
import { RunSupervisor } from "../supervisor/runs.ts";
import { type AgentState, CANCELLED_BY_USER } from "./state.ts";
import {
  checkArgs,
  checkEnv,
  checkName,
  checkPrompt,
  checkTurnId,
  checkWebhook,
  shortRandom,
} from "./validation.ts";
import type { TurnWaiters } from "./waiters.ts";

export const DEFAULT_PROVIDER = "auto";
export const DEFAULT_MODEL = "auto";

export interface CreateAgentInput {
  name?: string | undefined;
  prompt?: string | undefined;
  mode?: AgentMode | undefined;
  protocol?: string | undefined;
  command?: string[] | undefined;
  provider?: string | undefined;
  model?: string | undefined;
  cwd?: string | undefined;
  thinking?: string | undefined;
  extra_args?: string[] | undefined;
  env?: Record<string, string> | undefined;
  webhook?: string | undefined;
  turn_envelope?: boolean | undefined;
  /** False creates the agent without starting it (run: pending; persistent: stopped). */
  start?: boolean | undefined;
}

/** Config that can change after creation; null clears an optional field. */
export interface PatchAgentInput {
  provider?: string | undefined;
  model?: string | undefined;
  thinking?: string | null | undefined;
  extra_args?: string[] | undefined;
  env?: Record<string, string> | undefined;
  webhook?: string | null | undefined;
}

export interface PatchResult {
  agent: AgentRecord;
  /** True when the agent runs with the old config until it is restarted. */
  restart_required: boolean;
}

/** `force`: overwrite persistent agents' generated files even where they were edited by hand. */
export interface WriteOptions {
  force?: boolean | undefined;
}

export interface SendInput {
  message: string;
  turn_id?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  wait?: boolean | undefined;
  timeout_ms?: number | undefined;
}

export type SendResult =
  | { status: "sent"; turn_id: string }
  | { status: "completed"; turn_id: string; response: string | null }
  | { status: "error"; turn_id: string; error: string | null }
  | { status: "timeout"; turn_id: string };

export interface ServiceDeps {
  config: Config;
  db: Database;
  bus: EventBus;
  state: AgentState;
  waiters: TurnWaiters;
}

/** Everything the API can do with agents, whatever their mode. */
export class AgentService {
  private readonly config: Config;
  private readonly db: Database;
  private readonly state: AgentState;
  private readonly waiters: TurnWaiters;
  private readonly bus: EventBus;
  readonly runs: RunSupervisor;
  readonly persistent: PersistentAgents;

  constructor(deps: ServiceDeps) {
    this.config = deps.config;
    this.db = deps.db;
    this.state = deps.state;
    this.waiters = deps.waiters;
    this.bus = deps.bus;
    this.runs = new RunSupervisor({
      events: (agentId, events) => {
        for (const event of events) this.state.apply(agentId, event);
      },
      exited: (agentId, result) => this.runExited(agentId, result),
    });
    this.persistent = new PersistentAgents({
      config: deps.config,
      db: deps.db,
      state: deps.state,
    });
  }

  countByStatus(): Partial<Record<AgentStatus, number>> {
    return countAgentsByStatus(this.db);
  }

  list(filter: AgentFilter): AgentRecord[] {
    return listAgents(this.db, filter);
  }

  get(id: string): AgentRecord {
    const agent = getAgent(this.db, id);
    if (!agent) throw new NotFoundError(`no agent "${id}"`);
    return agent;
  }

  async create(input: CreateAgentInput, options: WriteOptions = {}): Promise<AgentRecord> {
    const mode = input.mode ?? "run";
    if (input.start === false && input.prompt !== undefined) {
      throw new BadRequestError("a prompt needs the agent started; leave out start: false");
    }
    const agent =
      mode === "persistent" ? await this.createPersistent(input, options) : this.createRun(input);
    if (input.prompt !== undefined) await this.sendInitialPrompt(agent.id, input.prompt);
    return this.get(agent.id);
  }

  private createRun(input: CreateAgentInput): AgentRecord {
    const name = input.name === undefined ? "agent" : checkName(input.name);
    const agent = this.state.insert(
      this.newAgent(input, {
        id: `${name}-${shortRandom()}`,
        name,
        mode: "run",
        status: input.start === false ? "pending" : "starting",
      }),
    );
    if (input.start === false) return agent;
    try {
      this.spawn(agent, this.driver(agent.protocol));
    } catch (error) {
      deleteAgent(this.db, agent.id);
      rmSync(this.logDir(agent.id), { recursive: true, force: true });
      throw new BadRequestError(`could not start ${agent.command?.[0]}: ${errorMessage(error)}`);
    }
    return agent;
  }

  /** A persistent agent's name is its id, its unit instance and the stem of its files. */
  private async createPersistent(
    input: CreateAgentInput,
    options: WriteOptions,
  ): Promise<AgentRecord> {
    if (input.name === undefined) throw new BadRequestError("a persistent agent needs a name");
    const name = checkName(input.name);
    const start = input.start ?? true;
    const fields = this.newAgent(input, { id: name, name, mode: "persistent", status: "stopped" });
    const agent = await this.persistent.create(fields, options.force ?? false);
    if (!start) return agent;
    try {
      return await this.persistent.start(agent.id, options.force ?? false);
    } catch (error) {
      await this.remove(agent.id).catch((cleanup) => {
        log.warn(`${agent.id}: cleaning up after a failed start failed: ${errorMessage(cleanup)}`);
      });
      throw error;
    }
  }

  /** The validated record of a new agent, whatever its mode. */
  private newAgent(
    input: CreateAgentInput,
    identity: Pick<NewAgent, "id" | "name" | "mode" | "status">,
  ): NewAgent {
    const protocol = input.protocol ?? "omni";
    this.driver(protocol);
    if (input.webhook !== undefined) checkWebhook(input.webhook);
    if (input.prompt !== undefined) checkPrompt(input.prompt, "prompt");
    const cwd = checkCwd(input.cwd ?? process.cwd());
    return {
      ...identity,
      protocol,
      command: resolveCommand(input.command ?? [this.config.agentCommand], cwd),
      provider: input.provider ?? DEFAULT_PROVIDER,
      model: input.model ?? DEFAULT_MODEL,
      cwd,
      workspace: null,
      thinking: input.thinking ?? null,
      extra_args: checkArgs(input.extra_args ?? []),
      env: checkEnv(input.env ?? {}),
      webhook: input.webhook ?? null,
      turn_envelope: input.turn_envelope ?? true,
      prompt: input.prompt ?? null,
    };
  }

  /** The agent exists either way; a prompt it could not take is an error on its turn. */
  private async sendInitialPrompt(id: string, prompt: string): Promise<void> {
    try {
      await this.send(id, { message: prompt });
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      log.warn(`${id}: initial prompt not delivered: ${error.message}`);
    }
  }

  async send(id: string, input: SendInput): Promise<SendResult> {
    const agent = this.get(id);
    checkPrompt(input.message, "message");
    if (!LIVE_STATUSES.includes(agent.status)) {
      throw new ConflictError(
        `agent ${id} is ${agent.status}; it takes prompts only while running or idle`,
      );
    }
    const turnId =
      input.turn_id === undefined ? `turn-${shortRandom(12)}` : checkTurnId(input.turn_id);
    if (turnExists(this.db, id, turnId)) {
      throw new ConflictError(
        `agent ${id} already has a turn "${turnId}"; turn ids are unique per agent`,
      );
    }
    const turn = insertTurn(this.db, {
      agent_id: id,
      id: turnId,
      input: input.message,
      metadata: input.metadata ?? null,
    });
    // Listen before writing: a fast agent may answer before the write returns.
    const settled = input.wait ? this.waiters.wait(id, turnId, input.timeout_ms ?? null) : null;
    try {
      await this.deliver(agent, turn);
    } catch (error) {
      const reason = `prompt not delivered: ${errorMessage(error)}`;
      this.state.undelivered(id, turnId, reason);
      throw new ConflictError(`agent ${id} did not take the prompt: ${errorMessage(error)}`);
    }
    this.state.delivered(agent, turn);
    if (!settled) return { status: "sent", turn_id: turnId };
    if ((await settled) === "timeout") return { status: "timeout", turn_id: turnId };
    return turnOutcome(this.turn(id, turnId));
  }

  async start(id: string, options: WriteOptions = {}): Promise<AgentRecord> {
    const agent = this.get(id);
    if (agent.mode === "persistent") return this.persistent.start(id, options.force ?? false);
    if (LIVE_STATUSES.includes(agent.status) || agent.status === "stopping") {
      throw new ConflictError(`agent ${id} is already ${agent.status}`);
    }
    this.state.setStatus(id, "starting", { error: null, exit_code: null, completed_at: null });
    try {
      this.spawn(this.get(id), this.driver(agent.protocol));
    } catch (error) {
      const message = `could not start: ${errorMessage(error)}`;
      this.state.setStatus(id, "failed", { error: message });
      throw new BadRequestError(`agent ${id} ${message}`);
    }
    return this.get(id);
  }

  /** Persistent agents stop within their unit's TimeoutStopSec; graceMs applies to runs. */
  async stop(id: string, graceMs?: number): Promise<AgentRecord> {
    const agent = this.get(id);
    if (agent.mode === "persistent") return this.persistent.stop(id);
    const run = this.runs.get(id);
    if (!run) return agent;
    if (agent.status !== "stopping") this.state.setStatus(id, "stopping");
    await this.runs.stop(id, graceMs ?? this.config.stopGraceMs);
    return this.get(id);
  }

  async restart(id: string, graceMs?: number, options: WriteOptions = {}): Promise<AgentRecord> {
    if (this.get(id).mode === "persistent") {
      return this.persistent.restart(id, options.force ?? false);
    }
    await this.stop(id, graceMs);
    return this.start(id);
  }

  /**
   * Change an agent's config. A running agent keeps its old config until it is restarted;
   * a persistent agent's env file is rewritten at once (never over a hand edit, unless forced).
   */
  async patch(
    id: string,
    input: PatchAgentInput,
    options: WriteOptions = {},
  ): Promise<PatchResult> {
    const agent = this.get(id);
    const changes = checkPatch(input);
    if (agent.mode === "persistent") {
      this.persistent.rewrite({ ...agent, ...changes }, options.force ?? false);
    }
    const updated = updateAgent(this.db, id, changes) ?? this.get(id);
    const relaunch = LAUNCH_FIELDS.some(
      (field) =>
        field in changes && JSON.stringify(agent[field]) !== JSON.stringify(updated[field]),
    );
    return { agent: updated, restart_required: relaunch && LIVE_STATUSES.includes(agent.status) };
  }

  async remove(id: string): Promise<void> {
    const agent = this.get(id);
    if (agent.mode === "persistent") await this.persistent.remove(id);
    else await this.stop(id);
    deleteAgent(this.db, id);
    this.state.forget(id);
    this.bus.forget(id);
    rmSync(this.logDir(id), { recursive: true, force: true });
  }

  messages(id: string): MessageRecord[] {
    this.get(id);
    return listMessages(this.db, id);
  }

  turns(id: string, page: TurnPage): TurnRecord[] {
    this.get(id);
    if (page.before !== undefined && !turnExists(this.db, id, page.before)) {
      throw new NotFoundError(`agent ${id} has no turn "${page.before}"`);
    }
    return listTurns(this.db, id, page);
  }

  turn(id: string, turnId: string): TurnRecord {
    this.get(id);
    const turn = getTurn(this.db, id, turnId);
    if (!turn) throw new NotFoundError(`agent ${id} has no turn "${turnId}"`);
    return turn;
  }

  /** The turn once it has ended, or as it stands when timeoutMs runs out. */
  async awaitTurn(id: string, turnId: string, timeoutMs: number | null): Promise<TurnRecord> {
    const turn = this.turn(id, turnId);
    if (!isOpenTurn(turn)) return turn;
    await this.waiters.wait(id, turnId, timeoutMs);
    return this.turn(id, turnId);
  }

  /** True while the agent's process is alive (or being stopped). */
  isLive(id: string): boolean {
    const agent = getAgent(this.db, id);
    return agent !== null && (LIVE_STATUSES.includes(agent.status) || agent.status === "stopping");
  }

  logPath(id: string): string {
    this.get(id);
    return join(this.logDir(id), "agent.log");
  }

  /**
   * At start-up: runs recorded as alive belonged to a daemon that is gone, and their processes
   * died with it. They are marked lost, and their open turns closed. Persistent agents outlived
   * it: they are followed on from where it stopped.
   */
  recover(): void {
    this.persistent.recover();
    for (const agent of listAgents(this.db, { mode: "run" })) {
      if (!LIVE_STATUSES.includes(agent.status) && agent.status !== "stopping") continue;
      this.state.closeTurns(agent.id, "error", "the daemon stopped while this turn was running");
      this.state.setStatus(agent.id, "lost", {
        pid: null,
        error: "the daemon stopped while this agent was running",
        completed_at: nowIso(),
      });
    }
  }

  /** Stop every run within one grace period; persistent agents keep running under systemd. */
  async shutdown(): Promise<void> {
    this.persistent.shutdown();
    await this.runs.stopAll(this.config.stopGraceMs);
  }

  private driver(protocol: string): ProtocolDriver {
    const driver = protocolDriver(protocol);
    if (!driver) {
      throw new BadRequestError(
        `unknown protocol "${protocol}"; known: ${PROTOCOL_NAMES.join(", ")}`,
      );
    }
    return driver;
  }

  private spawn(agent: AgentRecord, driver: ProtocolDriver): void {
    const argv = [
      ...(agent.command ?? [this.config.agentCommand]),
      "--provider",
      agent.provider,
      "--model",
      agent.model,
      "--json",
      ...agent.extra_args,
    ];
    const run = this.runs.start(
      agent.id,
      {
        argv,
        cwd: agent.cwd,
        env: { ...this.config.agentEnv, ...agent.env },
        logPath: join(this.logDir(agent.id), "agent.log"),
      },
      driver,
    );
    this.state.setStatus(agent.id, "idle", { pid: run.pid, started_at: nowIso() });
  }

  private async deliver(agent: AgentRecord, turn: TurnRecord): Promise<void> {
    const bytes = this.driver(agent.protocol).encodePrompt(
      { turn_id: turn.id, input: turn.input, metadata: turn.metadata },
      agent.turn_envelope,
    );
    if (agent.mode === "persistent") return this.persistent.deliver(agent, bytes);
    const run = this.runs.get(agent.id);
    if (!run) throw new Error("its process is not running");
    await run.write(bytes);
  }

  private runExited(agentId: string, result: ExitResult): void {
    const how = describeExit(result);
    if (result.stopped) {
      this.state.closeTurns(agentId, "cancelled", CANCELLED_BY_USER);
    } else {
      this.state.closeTurns(agentId, "error", `the agent ${how} before answering`);
    }
    this.state.record(agentId, "exit", {
      code: result.code,
      signal: result.signal,
      stopped: result.stopped,
    });
    const common = { pid: null, exit_code: result.code, completed_at: nowIso() };
    if (result.stopped) this.state.setStatus(agentId, "stopped", common);
    else if (result.code === 0) this.state.setStatus(agentId, "completed", common);
    else this.state.setStatus(agentId, "failed", { ...common, error: `the agent ${how}` });
    log.info(`${agentId}: ${how}`);
  }

  private logDir(id: string): string {
    return join(this.config.logRoot, id);
  }
}

/** Config the agent process is started with: changing it needs a restart. */
const LAUNCH_FIELDS = ["provider", "model", "thinking", "extra_args", "env"] as const;

function checkPatch(input: PatchAgentInput): AgentPatch {
  const changes: AgentPatch = {};
  if (input.provider !== undefined) changes.provider = input.provider;
  if (input.model !== undefined) changes.model = input.model;
  if (input.thinking !== undefined) changes.thinking = input.thinking;
  if (input.extra_args !== undefined) changes.extra_args = checkArgs(input.extra_args);
  if (input.env !== undefined) changes.env = checkEnv(input.env);
  if (input.webhook !== undefined) {
    changes.webhook = input.webhook === null ? null : checkWebhook(input.webhook);
  }
  return changes;
}

function turnOutcome(turn: TurnRecord): SendResult {
  if (turn.status === "completed")
    return { status: "completed", turn_id: turn.id, response: turn.response };
  return { status: "error", turn_id: turn.id, error: turn.error };
}

function describeExit(result: ExitResult): string {
  if (result.signal) return `was killed by ${result.signal}`;
  return `exited with code ${result.code}`;
}

function checkCwd(cwd: string): string {
  const path = resolve(cwd);
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new BadRequestError(`cwd "${cwd}" does not exist or is not a directory`);
  }
  return path;
}

/** The argv with its program resolved to an absolute, executable path. */
function resolveCommand(command: string[], cwd: string): string[] {
  const [program, ...args] = command;
  if (!program) throw new BadRequestError("command must name a program");
  let path: string | null;
  if (program.includes("/")) {
    path = isAbsolute(program) ? program : resolve(cwd, program);
    if (!existsSync(path)) throw new BadRequestError(`agent command "${program}" does not exist`);
  } else {
    path = Bun.which(program);
    if (path === null)
      throw new BadRequestError(`agent command "${program}" was not found on PATH`);
  }
  try {
    if (!statSync(path).isFile()) throw new Error("not a file");
    accessSync(path, constants.X_OK);
  } catch {
    throw new BadRequestError(`agent command "${program}" is not an executable file`);
  }
  return [path, ...args];
}
