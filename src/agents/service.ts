import type { Database } from "bun:sqlite";
import type { ProtocolView } from "../api/protocols.ts";
import type {
  CreateAgentInput,
  DeleteResult,
  PatchAgentInput,
  SendInput,
  SendResult,
} from "../api/schemas.ts";
import type { Config } from "../config.ts";
import {
  AgentdError,
  BadRequestError,
  ConflictError,
  errorMessage,
  NotFoundError,
} from "../errors.ts";
import type { EventBus } from "../events/bus.ts";
import { KeyedQueue } from "../keyed-queue.ts";
import { log } from "../log.ts";
import type { AgentLogs } from "../logs/agent-logs.ts";
import { describeProtocols, type ProtocolRegistry } from "../protocols/index.ts";
import type { ProtocolDriver } from "../protocols/session.ts";
import type { AgentRuntime, WriteOptions } from "../runtimes/runtime.ts";
import {
  type AgentPage,
  type AgentPageRequest,
  type AgentRecord,
  countAgentsByStatus,
  getAgent,
  listAgentPage,
  type NewAgent,
  updateAgent,
} from "../store/agents.ts";
import { listMessages, type MessageRecord } from "../store/messages.ts";
import type { Transactions } from "../store/transactions.ts";
import { isOpenTurn, type TurnCounts, type TurnPage, type TurnRecord } from "../store/turns.ts";
import type { AgentWorkspaces, PreparedWorkspace } from "../workspace/agent-workspaces.ts";
import type { BudgetGuard } from "./budget-guard.ts";
import { TurnInterrupts } from "./interrupts.ts";
import type { AgentLifecycle } from "./lifecycle.ts";
import { changesLaunch, checkPatch, DEFAULT_PROTOCOL, newAgentFrom } from "./new-agent.ts";
import { AgentRemoval, type RemoveOptions } from "./removal.ts";
import { type AgentMode, type AgentStatus, hasProcess, takesPrompts } from "./status.ts";
import { type AgentTurns, outcomeOf } from "./turns.ts";
import { checkPrompt } from "./validation.ts";

export interface PatchResult {
  agent: AgentRecord;
  /** True when the agent runs with the old config until it is restarted. */
  restart_required: boolean;
}

export interface ServiceDeps {
  config: Config;
  db: Database;
  transactions: Transactions;
  bus: EventBus;
  lifecycle: AgentLifecycle;
  turns: AgentTurns;
  budgets: BudgetGuard;
  protocols: ProtocolRegistry;
  logs: AgentLogs;
  runtimes: Record<AgentMode, AgentRuntime>;
  workspaces: AgentWorkspaces;
}

const NOT_FORCED: WriteOptions = { force: false };

/**
 * Everything the API can do with agents, whatever their mode: input checked, turns kept,
 * and the rest handed to the agent's runtime. Lifecycle operations on one agent (create,
 * start, stop, restart, change, removal) run one at a time.
 */
export class AgentService {
  private readonly operations = new KeyedQueue();
  private readonly removal: AgentRemoval;
  /** Turns agentd itself abandons: a silent agent's, a spent budget's. */
  readonly interrupts: TurnInterrupts;

  constructor(private readonly deps: ServiceDeps) {
    this.removal = new AgentRemoval(deps);
    this.interrupts = new TurnInterrupts({ ...deps, runtimeOf: (agent) => this.runtimeOf(agent) });
  }

  countByStatus(): Partial<Record<AgentStatus, number>> {
    return countAgentsByStatus(this.deps.db);
  }

  /** One page of the list of agents, oldest first. */
  page(request: AgentPageRequest): AgentPage {
    return listAgentPage(this.deps.db, request);
  }

  get(id: string): AgentRecord {
    const agent = getAgent(this.deps.db, id);
    if (!agent) throw new NotFoundError(`no agent "${id}"`);
    return agent;
  }

  /** The protocols agents can speak: the program each runs by default, and what it can do. */
  protocols(): ProtocolView[] {
    return describeProtocols(this.deps.protocols, DEFAULT_PROTOCOL, this.deps.config.agentCommand);
  }

  /** The agent's turns by status. */
  turnCounts(id: string): TurnCounts {
    return this.deps.turns.counts(id);
  }

  async create(input: CreateAgentInput, options: WriteOptions = NOT_FORCED): Promise<AgentRecord> {
    if (input.start === false && input.prompt !== undefined) {
      throw new BadRequestError("a prompt needs the agent started; leave out start: false");
    }
    const runtime = this.runtimeOf({ mode: input.mode ?? "run" });
    const checked = newAgentFrom(input, {
      driver: this.driver(input.protocol ?? DEFAULT_PROTOCOL),
      defaultCommand: this.deps.config.agentCommand,
      defaultBudgetUsd: this.deps.config.defaultBudgetUsd,
      protocols: [...this.deps.protocols.keys()],
      defaultTurnEnvelope: this.deps.config.promptFraming === "envelope",
      maxPromptBytes: this.deps.config.maxPromptBytes,
      identify: (name) => runtime.identify(name),
      restartPolicy: (requested) => runtime.restartPolicy(requested),
    });
    const id = checked.agent.id;
    await this.operations.run(id, async () => {
      if (getAgent(this.deps.db, id)) {
        throw new ConflictError(`an agent named "${id}" already exists`);
      }
      // The workspace first: its path is the agent's cwd, whatever runs the agent.
      const workspace = await this.deps.workspaces.prepare(id, checked.workspace);
      const fields: NewAgent = { ...checked.agent, cwd: workspace.path };
      let agent: AgentRecord | null = null;
      try {
        await runtime.prepare(fields, options);
        agent = this.recordCreated(fields, workspace);
        if (input.start !== false) await runtime.start(agent, options);
      } catch (error) {
        await this.removal.abandon(id, agent && { agent, runtime }, workspace);
        throw error;
      }
    });
    if (input.prompt !== undefined) await this.sendInitialPrompt(id, input.prompt);
    return this.get(id);
  }

  async send(id: string, input: SendInput): Promise<SendResult> {
    const agent = this.get(id);
    checkPrompt(input.message, "message", this.deps.config.maxPromptBytes);
    if (!takesPrompts(agent.status)) {
      throw new ConflictError(
        `agent ${id} is ${agent.status}; it takes prompts only while running or idle`,
      );
    }
    this.deps.budgets.checkPrompt(agent);
    // Recorded before writing: a fast agent may answer before the write returns.
    const prompt = this.deps.transactions.run(() => {
      const opened = this.deps.turns.open(id, input);
      this.deps.lifecycle.turnBegan(id);
      return opened;
    });
    const ended = input.wait
      ? this.deps.turns.ended(id, prompt.turn_id, input.timeout_ms ?? null)
      : null;
    try {
      await this.runtimeOf(agent).deliver(agent, prompt);
    } catch (error) {
      this.deps.transactions.run(() => {
        this.deps.turns.failed(id, prompt.turn_id, `prompt not delivered: ${errorMessage(error)}`);
        this.deps.lifecycle.turnEnded(id);
      });
      const reason = `agent ${id} did not take the prompt: ${errorMessage(error)}`;
      throw error instanceof AgentdError
        ? new AgentdError(error.status, error.code, reason)
        : new ConflictError(reason);
    }
    return ended ? outcomeOf(await ended) : { status: "sent", turn_id: prompt.turn_id };
  }

  /** Cancel one turn with the protocol's own interrupt; the agent keeps running. */
  async cancel(id: string, turnId: string): Promise<TurnRecord> {
    const agent = this.get(id);
    const turn = this.turn(id, turnId);
    if (!this.driver(agent.protocol).capabilities.cancel) {
      throw new ConflictError(
        `agent ${id} speaks ${agent.protocol}, which cannot cancel a turn; stop the agent instead`,
      );
    }
    if (!isOpenTurn(turn)) throw new ConflictError(`turn ${turnId} is already ${turn.status}`);
    await this.runtimeOf(agent).cancel(agent, turnId);
    return this.turn(id, turnId);
  }

  async start(id: string, options: WriteOptions = NOT_FORCED): Promise<AgentRecord> {
    return this.operations.run(id, async () => {
      const agent = this.get(id);
      if (hasProcess(agent.status)) {
        throw new ConflictError(`agent ${id} is already ${agent.status}`);
      }
      if (agent.workspace?.status === "removed") {
        throw new ConflictError(
          `agent ${id} has nowhere to work: its workspace ${agent.workspace.path} was removed (agentd gc); create a new agent`,
        );
      }
      await this.runtimeOf(agent).start(agent, options);
      return this.get(id);
    });
  }

  /** `graceMs` applies to runs; persistent agents stop within their unit's TimeoutStopSec. */
  async stop(id: string, graceMs?: number): Promise<AgentRecord> {
    return this.operations.run(id, async () => {
      const agent = this.get(id);
      await this.runtimeOf(agent).stop(agent, graceMs);
      return this.get(id);
    });
  }

  async restart(
    id: string,
    graceMs?: number,
    options: WriteOptions = NOT_FORCED,
  ): Promise<AgentRecord> {
    return this.operations.run(id, async () => {
      const agent = this.get(id);
      await this.runtimeOf(agent).restart(agent, graceMs, options);
      return this.get(id);
    });
  }

  /**
   * Change an agent's config. A running agent keeps its old config until it is restarted;
   * whatever holds the config outside the database (a persistent agent's env file) is
   * rewritten at once — never over a hand edit, unless forced.
   */
  async patch(
    id: string,
    input: PatchAgentInput,
    options: WriteOptions = NOT_FORCED,
  ): Promise<PatchResult> {
    return this.operations.run(id, async () => {
      const agent = this.get(id);
      const runtime = this.runtimeOf(agent);
      const changes = checkPatch(input, (requested) => runtime.restartPolicy(requested));
      runtime.reconfigure({ ...agent, ...changes }, options);
      const updated = this.deps.transactions.run(() => {
        const changed = updateAgent(this.deps.db, id, changes) ?? this.get(id);
        this.deps.budgets.rebudgeted(changed);
        return getAgent(this.deps.db, id) ?? changed;
      });
      const relaunch = changesLaunch(agent, updated);
      return { agent: updated, restart_required: relaunch && takesPrompts(agent.status) };
    });
  }

  /**
   * Replace a stuck agent's process as its restart policy would replace a dead one (not at all
   * under "no"): killed, it counts as failed, and its runtime restarts it.
   */
  async recycle(id: string, reason: string): Promise<void> {
    await this.operations.run(id, async () => {
      const agent = getAgent(this.deps.db, id);
      if (!agent || agent.restart === "no" || !takesPrompts(agent.status)) return;
      log.warn(`${id}: ${reason}; its process is replaced (restart: ${agent.restart})`);
      await this.runtimeOf(agent).recycle(agent, reason);
    });
  }

  /**
   * Stop the agent and remove it with everything kept about it, its workspace first. Unless
   * forced, an agent whose workspace holds uncommitted or unmerged work is refused (409 listing
   * it) and left running. If the workspace cannot be removed after the stop, the agent stays
   * (stopped), and the error says why.
   */
  async remove(id: string, options: RemoveOptions = NOT_FORCED): Promise<DeleteResult> {
    return this.operations.run(id, async () => {
      const agent = this.get(id);
      return this.removal.remove(agent, this.runtimeOf(agent), options);
    });
  }

  messages(id: string): MessageRecord[] {
    this.get(id);
    return listMessages(this.deps.db, id);
  }

  turns(id: string, page: TurnPage): TurnRecord[] {
    this.get(id);
    return this.deps.turns.page(id, page);
  }

  turn(id: string, turnId: string): TurnRecord {
    this.get(id);
    return this.deps.turns.get(id, turnId);
  }

  /** The turn once it has ended, or as it stands when timeoutMs runs out. */
  async awaitTurn(id: string, turnId: string, timeoutMs: number | null): Promise<TurnRecord> {
    this.get(id);
    return this.deps.turns.ended(id, turnId, timeoutMs);
  }

  /** True while the agent has a process, so its log may still grow. */
  isLive(id: string): boolean {
    const agent = getAgent(this.deps.db, id);
    return agent !== null && hasProcess(agent.status);
  }

  logPath(id: string): string {
    this.get(id);
    return this.deps.logs.path(id);
  }

  /** At start-up: each runtime takes over (or accounts for) what the last daemon left. */
  async recover(): Promise<void> {
    for (const runtime of Object.values(this.deps.runtimes)) await runtime.recover();
  }

  /** Runs stop within one grace period; persistent agents keep running under systemd. */
  async shutdown(): Promise<void> {
    await Promise.all(Object.values(this.deps.runtimes).map((runtime) => runtime.shutdown()));
  }

  /** The new agent's row and its workspace's, together. */
  private recordCreated(fields: NewAgent, workspace: PreparedWorkspace): AgentRecord {
    return this.deps.transactions.run(() => {
      const agent = this.deps.lifecycle.created(fields);
      this.deps.workspaces.record(agent.id, workspace);
      return agent;
    });
  }

  /** The agent exists either way; a prompt it could not take is an error on its turn. */
  private async sendInitialPrompt(id: string, prompt: string): Promise<void> {
    try {
      await this.send(id, { message: prompt });
    } catch (error) {
      if (!(error instanceof AgentdError && error.status === 409)) throw error;
      log.warn(`${id}: initial prompt not delivered: ${error.message}`);
    }
  }

  private driver(protocol: string): ProtocolDriver {
    const driver = this.deps.protocols.get(protocol);
    if (!driver) {
      const known = [...this.deps.protocols.keys()].join(", ");
      throw new BadRequestError(`unknown protocol "${protocol}"; known: ${known}`);
    }
    return driver;
  }

  /** The one place where an agent's mode decides anything. */
  private runtimeOf(agent: Pick<AgentRecord, "mode">): AgentRuntime {
    return this.deps.runtimes[agent.mode];
  }
}
