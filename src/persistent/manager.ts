import type { Database } from "bun:sqlite";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type AgentState, CANCELLED_BY_USER } from "../agents/state.ts";
import type { Config } from "../config.ts";
import { ConflictError, errorMessage, NotFoundError } from "../errors.ts";
import { log } from "../log.ts";
import type { AgentEvent, ProtocolDriver } from "../protocols/events.ts";
import { protocolDriver } from "../protocols/index.ts";
import { eventsOfLine, oversizeLineEvent } from "../protocols/lines.ts";
import {
  type AgentRecord,
  getAgent,
  LIVE_STATUSES,
  listAgents,
  type NewAgent,
  setAgentEventsOffset,
  updateAgent,
} from "../store/agents.ts";
import { inTransaction } from "../store/sql.ts";
import { nowIso } from "../store/time.ts";
import { oldestOpenTurn } from "../store/turns.ts";
import { agentEnvFile, type GeneratedFile, sharedFiles } from "./assets.ts";
import { EventsFollower, type FollowedLine } from "./events-follower.ts";
import { FifoWriter } from "./fifo.ts";
import { GeneratedFiles } from "./generated-files.ts";
import { envFilePath, eventsPath, fifoPath, manifestPath, unitName } from "./paths.ts";
import { Systemctl, type UnitState } from "./systemctl.ts";

/** How often systemd is asked how the units are doing. */
const STATUS_POLL_MS = 1000;
/** How often the events files are checked for new lines. */
const EVENTS_POLL_MS = 100;

export interface PersistentDeps {
  config: Config;
  db: Database;
  state: AgentState;
}

/**
 * Persistent agents: instances of the generated `agentd-agent@.service` user unit, controlled
 * with systemctl, fed prompts through their FIFO, observed through their events file and
 * `systemctl show`. They outlive the daemon; a new daemon picks them up where the last one was.
 */
export class PersistentAgents {
  private readonly config: Config;
  private readonly db: Database;
  private readonly state: AgentState;
  private readonly systemctl: Systemctl;
  private readonly files: GeneratedFiles;
  private readonly fifos = new FifoWriter();
  private readonly followers = new Map<string, EventsFollower>();
  /** Agents with a start, stop, restart or removal under way: polls leave them alone. */
  private readonly busy = new Set<string>();
  /** Agents seen dead and waiting for systemd's automatic restart. */
  private readonly restartSeen = new Set<string>();
  /** Bumped when an operation ends, so a poll that began before it discards what it saw. */
  private readonly operations = new Map<string, number>();
  private timers: Timer[] = [];
  /** False once the daemon shuts down: a poll still under way then changes nothing. */
  private watching = false;
  private polling = false;
  private lastPollError: string | null = null;

  constructor(deps: PersistentDeps) {
    this.config = deps.config;
    this.db = deps.db;
    this.state = deps.state;
    this.systemctl = new Systemctl(deps.config.systemctlEnv);
    this.files = new GeneratedFiles(manifestPath(deps.config));
  }

  /** Write the agent's files and record it, stopped; throws before recording on any problem. */
  async create(agent: NewAgent, force: boolean): Promise<AgentRecord> {
    if (getAgent(this.db, agent.id)) {
      throw new ConflictError(`an agent named "${agent.id}" already exists`);
    }
    for (const dir of [this.config.stateDir, this.config.persistentConfigDir]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    this.writeFiles(agent, force);
    this.resetStateFiles(agent.name);
    try {
      await this.systemctl.daemonReload();
    } catch (error) {
      this.removeFiles(agent.name);
      throw error;
    }
    const record = this.state.insert({ ...agent, status: "stopped" });
    this.follow(record);
    return record;
  }

  async start(id: string, force: boolean): Promise<AgentRecord> {
    return this.operate(id, async () => {
      const agent = await this.refresh(id);
      if (LIVE_STATUSES.includes(agent.status) || agent.status === "stopping") {
        throw new ConflictError(`agent ${id} is already ${agent.status}`);
      }
      await this.install(agent, force);
      this.starting(id);
      await this.systemctlOrFail(id, () => this.systemctl.start(unitName(agent.name)));
      return this.refresh(id);
    });
  }

  async stop(id: string): Promise<AgentRecord> {
    return this.operate(id, async () => {
      const agent = await this.refresh(id);
      const alive = LIVE_STATUSES.includes(agent.status) || agent.status === "stopping";
      if (alive) this.state.setStatus(id, "stopping");
      // Like start and restart: systemd acts on the unit files as they are now.
      await this.systemctlOrFail(id, async () => {
        await this.systemctl.daemonReload();
        await this.systemctl.stop(unitName(agent.name));
      });
      if (alive) this.stopped(id);
      return this.get(id);
    });
  }

  async restart(id: string, force: boolean): Promise<AgentRecord> {
    return this.operate(id, async () => {
      const agent = this.get(id);
      await this.install(agent, force);
      await this.systemctlOrFail(id, () => this.systemctl.restart(unitName(agent.name)));
      this.processGone(id, "cancelled", CANCELLED_BY_USER);
      this.starting(id);
      return this.refresh(id);
    });
  }

  /** Stop the unit and delete its files; the caller then removes the agent's records. */
  async remove(id: string): Promise<void> {
    await this.operate(id, async () => {
      const agent = this.get(id);
      const unit = unitName(agent.name);
      await this.systemctl.stop(unit);
      this.processGone(id, "cancelled", CANCELLED_BY_USER);
      await this.systemctl.resetFailed(unit).catch(() => {
        // Nothing to reset: the unit never failed.
      });
      this.unfollow(id);
      this.removeFiles(agent.name);
    });
  }

  /** Write the agent's env file again after its config changed; applies at its next start. */
  rewrite(agent: AgentRecord, force: boolean): void {
    this.files.write([agentEnvFile(this.config, agent)], force);
  }

  /** Write one framed prompt into the agent's FIFO. */
  deliver(agent: AgentRecord, bytes: Uint8Array): Promise<void> {
    return this.fifos.write(fifoPath(this.config, agent.name), bytes);
  }

  /** At start-up: follow every persistent agent's events from where the last daemon stopped. */
  recover(): void {
    for (const agent of listAgents(this.db, { mode: "persistent" })) this.follow(agent);
    this.watching = true;
    this.timers = [
      setInterval(() => this.pollEvents(), EVENTS_POLL_MS),
      setInterval(() => void this.pollStatuses(), STATUS_POLL_MS),
    ];
    void this.pollStatuses();
  }

  /** Stop watching; the agents themselves keep running under systemd. */
  shutdown(): void {
    this.watching = false;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    for (const id of [...this.followers.keys()]) this.unfollow(id);
  }

  private get(id: string): AgentRecord {
    const agent = getAgent(this.db, id);
    if (!agent) throw new NotFoundError(`no agent "${id}"`);
    return agent;
  }

  private async operate<T>(id: string, operation: () => Promise<T>): Promise<T> {
    if (this.busy.has(id)) {
      throw new ConflictError(`agent ${id} is busy with another start, stop or restart`);
    }
    this.busy.add(id);
    try {
      return await operation();
    } finally {
      this.busy.delete(id);
      this.operations.set(id, (this.operations.get(id) ?? 0) + 1);
    }
  }

  /** A failed systemctl call leaves the agent in whatever state systemd reports. */
  private async systemctlOrFail(id: string, call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (error) {
      await this.refresh(id).catch(() => {});
      throw error;
    }
  }

  /** The files as this daemon renders them, and systemd told to read them again. */
  private async install(agent: AgentRecord, force: boolean): Promise<void> {
    this.writeFiles(agent, force);
    await this.systemctl.daemonReload();
  }

  /** A manual start: systemd counts its automatic restarts from zero again. */
  private starting(id: string): void {
    this.restartSeen.delete(id);
    this.state.setStatus(id, "starting", {
      error: null,
      exit_code: null,
      completed_at: null,
      started_at: nowIso(),
      restarts: 0,
    });
  }

  private writeFiles(agent: NewAgent, force: boolean): void {
    const files: GeneratedFile[] = [...sharedFiles(this.config), agentEnvFile(this.config, agent)];
    this.files.write(files, force);
  }

  /** A new agent starts with an empty, owner-only events file and no FIFO of a namesake. */
  private resetStateFiles(name: string): void {
    rmSync(fifoPath(this.config, name), { force: true });
    writeFileSync(eventsPath(this.config, name), "", { mode: 0o600 });
  }

  private removeFiles(name: string): void {
    this.files.remove(envFilePath(this.config, name));
    for (const path of [eventsPath(this.config, name), fifoPath(this.config, name)]) {
      rmSync(path, { force: true });
    }
  }

  private follow(agent: AgentRecord): void {
    const driver = protocolDriver(agent.protocol);
    if (!driver || this.followers.has(agent.id)) return;
    const follower = new EventsFollower(
      eventsPath(this.config, agent.name),
      agent.events_offset,
      join(this.config.logRoot, agent.id, "agent.log"),
      (lines, offset) => {
        const events = lines.flatMap((line) => eventsOf(agent.id, line, driver));
        // One transaction for the effects and the offset: after a crash, nothing is applied twice.
        inTransaction(this.db, () => {
          for (const event of events) this.state.apply(agent.id, event);
          setAgentEventsOffset(this.db, agent.id, offset);
        });
      },
    );
    this.followers.set(agent.id, follower);
  }

  private unfollow(id: string): void {
    this.followers.get(id)?.close();
    this.followers.delete(id);
  }

  private pollEvents(): void {
    for (const [id, follower] of this.followers) {
      try {
        follower.poll();
      } catch (error) {
        log.warn(`${id}: reading its events failed: ${errorMessage(error)}`);
      }
    }
  }

  private async pollStatuses(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const agents = listAgents(this.db, { mode: "persistent" }).filter(
        (a) => !this.busy.has(a.id),
      );
      const before = new Map(agents.map((a) => [a.id, this.operations.get(a.id) ?? 0]));
      const units = await this.systemctl.show(agents.map((a) => unitName(a.name)));
      if (!this.watching) return;
      for (const agent of agents) {
        const unit = units.get(unitName(agent.name));
        const untouched = (this.operations.get(agent.id) ?? 0) === before.get(agent.id);
        if (unit && untouched && !this.busy.has(agent.id)) this.observe(agent.id, unit);
      }
      this.lastPollError = null;
    } catch (error) {
      const message = errorMessage(error);
      if (message !== this.lastPollError) log.warn(`persistent agents' status unknown: ${message}`);
      this.lastPollError = message;
    } finally {
      this.polling = false;
    }
  }

  /** Ask systemd now, and bring the stored status in line with its answer. */
  private async refresh(id: string): Promise<AgentRecord> {
    const unit = unitName(this.get(id).name);
    const state = (await this.systemctl.show([unit])).get(unit);
    if (state) this.observe(id, state);
    return this.get(id);
  }

  /** systemd's view of the unit decides whether the agent lives; its events, whether it works. */
  private observe(id: string, unit: UnitState): void {
    // The agent's last words come first: a turn it finished before dying counts as finished.
    this.followers.get(id)?.poll();
    const agent = getAgent(this.db, id);
    if (!agent) return;
    if (unit.nRestarts !== agent.restarts) this.restartsChanged(agent, unit.nRestarts);
    switch (unit.activeState) {
      case "active":
      case "reloading":
        this.active(agent, unit);
        break;
      case "activating":
        if (unit.subState === "auto-restart" && !this.restartSeen.has(id)) {
          this.processGone(id, "error", "the agent exited before answering; systemd restarts it");
          this.restartSeen.add(id);
        }
        if (agent.status !== "starting")
          this.state.setStatus(id, "starting", { pid: unit.mainPid });
        break;
      case "deactivating":
        if (agent.status !== "stopping") this.state.setStatus(id, "stopping");
        break;
      case "failed":
        if (agent.status !== "failed") this.failed(agent, unit);
        break;
      case "inactive":
        if (agent.status !== "stopped") {
          this.processGone(id, "error", "the agent stopped before answering");
          this.recordExit(id, unit.execMainStatus, false);
          this.state.setStatus(id, "stopped", {
            pid: null,
            exit_code: unit.execMainStatus,
            completed_at: nowIso(),
          });
        }
        break;
    }
  }

  private active(agent: AgentRecord, unit: UnitState): void {
    if (agent.status === "running" || agent.status === "idle") {
      if (agent.pid !== unit.mainPid) updateAgent(this.db, agent.id, { pid: unit.mainPid });
      return;
    }
    const busy = oldestOpenTurn(this.db, agent.id) !== null;
    this.state.setStatus(agent.id, busy ? "running" : "idle", {
      pid: unit.mainPid,
      error: null,
      exit_code: null,
      completed_at: null,
      started_at: agent.started_at ?? nowIso(),
    });
  }

  private failed(agent: AgentRecord, unit: UnitState): void {
    this.processGone(agent.id, "error", "the agent failed before answering");
    this.recordExit(agent.id, unit.execMainStatus, false);
    const status = unit.execMainStatus === null ? "" : `, exit status ${unit.execMainStatus}`;
    this.state.setStatus(agent.id, "failed", {
      pid: null,
      exit_code: unit.execMainStatus,
      restarts: unit.nRestarts,
      completed_at: nowIso(),
      error: `the agent failed (${unit.result}${status}); systemd gave up after ${unit.nRestarts} automatic restarts`,
    });
  }

  /**
   * NRestarts grew: the agent died and systemd started it again (the count starts from 0 at
   * each manual start). Its open turns died with it — unless the death was already seen while
   * systemd waited to restart it: turns open now were sent to the new process.
   */
  private restartsChanged(agent: AgentRecord, restarts: number): void {
    if (restarts > agent.restarts) {
      if (!this.restartSeen.delete(agent.id)) {
        this.processGone(
          agent.id,
          "error",
          "the agent exited before answering; systemd restarted it",
        );
      }
      this.state.record(agent.id, "restart", { restarts });
    }
    updateAgent(this.db, agent.id, { restarts });
  }

  /** The agent's process ended: whatever it had not answered never will be. */
  private processGone(id: string, status: "error" | "cancelled", reason: string): void {
    this.followers.get(id)?.poll();
    this.state.closeTurns(id, status, reason);
  }

  private stopped(id: string): void {
    this.processGone(id, "cancelled", CANCELLED_BY_USER);
    this.recordExit(id, null, true);
    this.state.setStatus(id, "stopped", { pid: null, completed_at: nowIso() });
  }

  /** The same `exit` event a run records; systemd reports the code, not the signal. */
  private recordExit(id: string, code: number | null, stopped: boolean): void {
    this.state.record(id, "exit", { code, signal: null, stopped });
  }
}

function eventsOf(agentId: string, line: FollowedLine, driver: ProtocolDriver): AgentEvent[] {
  if (line.kind === "oversize") return [oversizeLineEvent(line.totalBytes)];
  return eventsOfLine(driver, agentId, line.text);
}
