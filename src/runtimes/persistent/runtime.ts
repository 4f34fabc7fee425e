import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { launchSpec } from "../../agents/launch.ts";
import type { RestartPolicy } from "../../agents/status.ts";
import { hasProcess } from "../../agents/status.ts";
import { BadRequestError, ConflictError, errorMessage, NotFoundError } from "../../errors.ts";
import { log } from "../../log.ts";
import type { AgentLog } from "../../logs/agent-log.ts";
import type { AgentEvent, Prompt, ProtocolDriver } from "../../protocols/session.ts";
import {
  type AgentRecord,
  getAgent,
  listAgents,
  type NewAgent,
  setAgentEventsOffset,
} from "../../store/agents.ts";
import { Systemctl, type UnitState } from "../../systemd/systemctl.ts";
import { LiveSession } from "../live-session.ts";
import { processStart } from "../procfs.ts";
import type { AgentRuntime, RuntimeDeps, WriteOptions } from "../runtime.ts";
import { agentEnvFile, type GeneratedFile, sharedFiles } from "./assets.ts";
import { EventsFileFollower } from "./events-file.ts";
import { FifoWriter } from "./fifo.ts";
import { GeneratedFiles } from "./generated-files.ts";
import { envFilePath, eventsPath, fifoPath, manifestPath, unitName } from "./paths.ts";
import { reconcile, type Step } from "./reconcile.ts";

/** How often systemd is asked how the units are doing. */
const STATUS_POLL_MS = 1000;
/** How often the events files are checked for new lines. */
const EVENTS_POLL_MS = 100;

/** What the runtime holds for one persistent agent it watches. */
interface Watched {
  follower: EventsFileFollower;
  agentLog: AgentLog;
  /** The session with the agent's current process (one per process). */
  session: LiveSession | null;
  sessionPid: number | null;
  deathSeen: boolean;
}

/**
 * Persistent agents: instances of the generated `agentd-agent@.service` user unit, controlled
 * with systemctl, fed through their FIFO, observed through their events file and
 * `systemctl show`. They outlive the daemon; a new daemon picks them up where the last one was.
 */
export class PersistentRuntime implements AgentRuntime {
  private readonly systemctl: Systemctl;
  private readonly files: GeneratedFiles;
  private readonly fifos = new FifoWriter();
  private readonly watched = new Map<string, Watched>();
  /** Agents with a start, stop, restart or removal under way: polls leave them alone. */
  private readonly busy = new Set<string>();
  /** Bumped when an operation ends, so a poll that began before it discards what it saw. */
  private readonly operations = new Map<string, number>();
  private timers: Timer[] = [];
  /** False once the daemon shuts down: a poll still under way then changes nothing. */
  private watching = false;
  private polling = false;
  private lastPollError: string | null = null;

  constructor(private readonly deps: RuntimeDeps) {
    this.systemctl = new Systemctl(deps.config.systemctlEnv);
    this.files = new GeneratedFiles(manifestPath(deps.config));
  }

  /** The name is the id, the unit instance and the stem of the agent's files. */
  identify(name: string | undefined): { id: string; name: string } {
    if (name === undefined) throw new BadRequestError("a persistent agent needs a name");
    return { id: name, name };
  }

  /** Its unit restarts it on failure (Restart=on-failure), whatever the agent asks for. */
  restartPolicy(requested: RestartPolicy | undefined): RestartPolicy {
    if (requested === undefined || requested === "on-failure") return "on-failure";
    throw new BadRequestError(
      `restart "${requested}" is for runs; a persistent agent's unit restarts it on failure (give "on-failure" or leave restart out)`,
    );
  }

  /** Its files written and systemd told; throws before anything is left behind. */
  async prepare(agent: NewAgent, options: WriteOptions): Promise<void> {
    const { config } = this.deps;
    for (const dir of [config.stateDir, config.persistentConfigDir]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    this.writeFiles(agent, options.force);
    rmSync(fifoPath(config, agent.name), { force: true });
    writeFileSync(eventsPath(config, agent.name), "", { mode: 0o600 });
    try {
      await this.systemctl.daemonReload();
    } catch (error) {
      this.removeFiles(agent.name);
      throw error;
    }
  }

  async start(agent: AgentRecord, options: WriteOptions): Promise<void> {
    await this.operate(agent.id, async () => {
      const current = await this.refresh(agent.id);
      if (hasProcess(current.status)) {
        throw new ConflictError(`agent ${agent.id} is already ${current.status}`);
      }
      await this.install(current, options.force);
      this.watch(current);
      this.startEventsOver(agent.id);
      this.startedByHand(agent.id);
      await this.systemctlOrRefresh(agent.id, () => this.systemctl.start(unitName(agent.name)));
      await this.refresh(agent.id);
    });
  }

  async stop(agent: AgentRecord): Promise<void> {
    await this.operate(agent.id, () => this.stopUnit(agent));
  }

  async restart(agent: AgentRecord, _graceMs: number | undefined, options: WriteOptions) {
    await this.operate(agent.id, async () => {
      await this.install(agent, options.force);
      await this.watched.get(agent.id)?.session?.close();
      await this.systemctlOrRefresh(agent.id, () => this.systemctl.restart(unitName(agent.name)));
      this.pollEventsOf(agent.id);
      this.deps.lifecycle.exited(agent.id, {
        code: null,
        signal: null,
        stopped: true,
        restarting: true,
      });
      this.startedByHand(agent.id);
      await this.refresh(agent.id);
    });
  }

  /** SIGKILL is a failure to systemd: Restart=on-failure starts it again. */
  async recycle(agent: AgentRecord): Promise<void> {
    await this.systemctl.kill(unitName(agent.name), "SIGKILL");
  }

  async deliver(agent: AgentRecord, prompt: Prompt): Promise<void> {
    await this.sessionOf(agent).prompt(prompt);
  }

  async cancel(agent: AgentRecord, turnId: string): Promise<void> {
    await this.sessionOf(agent).cancel(turnId);
  }

  /** The env file is rewritten at once; it applies at the agent's next start. */
  reconfigure(agent: AgentRecord, options: WriteOptions): void {
    this.files.write([this.envFile(agent)], options.force);
  }

  /** Stop the unit and delete its files; the caller then removes the agent's records. */
  async remove(agent: AgentRecord): Promise<void> {
    await this.operate(agent.id, async () => {
      await this.stopUnit(agent);
      await this.systemctl.resetFailed(unitName(agent.name)).catch(() => {
        // Nothing to reset: the unit never failed.
      });
      this.unwatch(agent.id);
      this.removeFiles(agent.name);
    });
  }

  /** At start-up: follow every persistent agent's events from where the last daemon stopped. */
  async recover(): Promise<void> {
    for (const agent of listAgents(this.deps.db, { mode: "persistent" })) this.watch(agent);
    this.watching = true;
    this.timers = [
      setInterval(() => this.pollEvents(), EVENTS_POLL_MS),
      setInterval(() => void this.pollStatuses(), STATUS_POLL_MS),
    ];
    void this.pollStatuses();
  }

  /** Stop watching; the agents themselves keep running under systemd. */
  async shutdown(): Promise<void> {
    this.watching = false;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    for (const id of [...this.watched.keys()]) this.unwatch(id);
  }

  private async stopUnit(agent: AgentRecord): Promise<void> {
    const current = await this.refresh(agent.id);
    const alive = hasProcess(current.status);
    if (alive) this.deps.lifecycle.stopping(agent.id);
    await this.watched.get(agent.id)?.session?.close();
    // Like start and restart: systemd acts on the unit files as they are now.
    await this.systemctlOrRefresh(agent.id, async () => {
      await this.systemctl.daemonReload();
      await this.systemctl.stop(unitName(agent.name));
    });
    if (!alive) return;
    // The agent's last words come first: a turn it finished before it stopped counts.
    this.pollEventsOf(agent.id);
    this.deps.lifecycle.exited(agent.id, { code: null, signal: null, stopped: true });
  }

  private async operate<T>(id: string, operation: () => Promise<T>): Promise<T> {
    this.busy.add(id);
    try {
      return await operation();
    } finally {
      this.busy.delete(id);
      this.operations.set(id, (this.operations.get(id) ?? 0) + 1);
    }
  }

  /** A failed systemctl call leaves the agent in whatever state systemd reports. */
  private async systemctlOrRefresh(id: string, call: () => Promise<void>): Promise<void> {
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

  /**
   * Its unit is inactive, so nothing holds its events file open: one read to its end begins
   * again empty (see EventsFileFollower), and so does the offset stored for it.
   */
  private startEventsOver(id: string): void {
    const watched = this.watched.get(id);
    if (watched?.follower.startOver()) setAgentEventsOffset(this.deps.db, id, 0);
  }

  /** A start by hand: systemd counts its automatic restarts from zero again. */
  private startedByHand(id: string): void {
    const watched = this.watched.get(id);
    if (watched) watched.deathSeen = false;
    this.deps.lifecycle.starting(id, { restarts: 0 });
  }

  private writeFiles(agent: NewAgent, force: boolean): void {
    const files: GeneratedFile[] = [...sharedFiles(this.deps.config), this.envFile(agent)];
    this.files.write(files, force);
  }

  private envFile(agent: NewAgent): GeneratedFile {
    const spec = launchSpec(agent, this.driver(agent), this.deps.config, agent.name);
    return agentEnvFile(this.deps.config, agent.name, spec);
  }

  /**
   * Apply what an agent reported. A conversation id it reported (stored by now) goes into its
   * env file at once, so a process systemd starts on its own — after a crash, at boot —
   * resumes the conversation too, for CLIs that are told it on their command line. Returns
   * whether the batch was stored (one that was not is read again from the events file).
   * `fromAgent`: the batch is the agent's own output (its idle watchdog hears it).
   */
  private record(
    id: string,
    events: AgentEvent[],
    alongside?: () => void,
    fromAgent = false,
  ): boolean {
    const { recorder } = this.deps;
    const stored = fromAgent
      ? recorder.applyOutput(id, events, alongside)
      : recorder.apply(id, events, alongside);
    if (!stored) return false;
    if (events.some((event) => event.type === "session")) this.keepSession(id);
    return true;
  }

  private keepSession(id: string): void {
    const agent = getAgent(this.deps.db, id);
    if (!agent || !this.watched.has(id)) return;
    try {
      this.files.write([this.envFile(agent)], false);
    } catch (error) {
      log.warn(`${id}: its env file still names its previous session: ${errorMessage(error)}`);
    }
  }

  private removeFiles(name: string): void {
    const { config } = this.deps;
    this.files.remove(envFilePath(config, name));
    for (const path of [eventsPath(config, name), fifoPath(config, name)]) {
      rmSync(path, { force: true });
    }
  }

  private driver(agent: Pick<AgentRecord, "protocol">): ProtocolDriver {
    const driver = this.deps.protocols.get(agent.protocol);
    if (!driver) throw new Error(`unknown protocol "${agent.protocol}"`);
    return driver;
  }

  /** Follow the agent's events file from the offset the store has applied. */
  private watch(agent: AgentRecord): void {
    if (this.watched.has(agent.id)) return;
    const { config, db } = this.deps;
    const agentLog = this.deps.logs.open(agent.id);
    const watched: Watched = {
      agentLog,
      session: null,
      sessionPid: null,
      deathSeen: false,
      follower: new EventsFileFollower(
        eventsPath(config, agent.name),
        agent.events_offset,
        agent.id,
        agentLog,
        (line) => this.sessionOf(agent).receive(line),
        // One transaction for the effects and the offset: after a crash, nothing counts twice.
        (events, offset) =>
          this.record(agent.id, events, () => setAgentEventsOffset(db, agent.id, offset), true),
      ),
    };
    this.watched.set(agent.id, watched);
  }

  private unwatch(id: string): void {
    this.watched.get(id)?.agentLog.close();
    this.watched.delete(id);
  }

  /**
   * The session with the agent's current process. A process that was running before this
   * daemon knew it (its pid is the recorded one) already had its handshake.
   */
  private sessionOf(agent: AgentRecord): LiveSession {
    const watched = this.watched.get(agent.id);
    if (!watched) throw new Error("it is not being watched (was it removed?)");
    if (watched.session) return watched.session;
    return this.newSession(agent, watched, getAgent(this.deps.db, agent.id)?.pid ?? null, false);
  }

  private newSession(
    agent: AgentRecord,
    watched: Watched,
    pid: number | null,
    handshake: boolean,
  ): LiveSession {
    const fifo = fifoPath(this.deps.config, agent.name);
    watched.session = new LiveSession(
      agent,
      this.driver(agent),
      (bytes) => this.fifos.write(fifo, bytes),
      { apply: (id, events) => this.record(id, events) },
      handshake,
    );
    watched.sessionPid = pid;
    return watched.session;
  }

  private pollEvents(): void {
    for (const id of this.watched.keys()) this.pollEventsOf(id);
  }

  private pollEventsOf(id: string): void {
    try {
      this.watched.get(id)?.follower.poll();
    } catch (error) {
      log.warn(`${id}: reading its events failed: ${errorMessage(error)}`);
    }
  }

  private async pollStatuses(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const agents = listAgents(this.deps.db, { mode: "persistent" }).filter(
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

  /** Ask systemd now, and bring the record in line with its answer. */
  private async refresh(id: string): Promise<AgentRecord> {
    const unit = unitName(this.get(id).name);
    const state = (await this.systemctl.show([unit])).get(unit);
    if (state) this.observe(id, state);
    return this.get(id);
  }

  /** systemd's view of the unit decides whether the agent lives; its events, whether it works. */
  private observe(id: string, unit: UnitState): void {
    // The agent's last words come first: a turn it finished before dying counts as finished.
    this.pollEventsOf(id);
    const agent = getAgent(this.deps.db, id);
    const watched = this.watched.get(id);
    if (!agent || !watched) return;
    const { steps, deathSeen } = reconcile({ ...agent, deathSeen: watched.deathSeen }, unit);
    watched.deathSeen = deathSeen;
    for (const step of steps) this.take(id, step);
    if (unit.activeState === "active" && unit.mainPid !== watched.sessionPid) {
      // A new process: a new session, with the protocol's handshake — unless this daemon
      // only now learns of a process that was already running (the recorded pid, started
      // when the recorded one did: not a later process that happens to have its pid).
      const known =
        watched.session === null &&
        agent.pid === unit.mainPid &&
        (agent.pid_start === null || agent.pid_start === startOf(unit.mainPid));
      this.newSession(agent, watched, unit.mainPid, !known);
    }
  }

  private take(id: string, step: Step): void {
    const { lifecycle } = this.deps;
    switch (step.kind) {
      case "exited":
        lifecycle.exited(id, step.exit);
        return;
      case "restarted":
        lifecycle.restarted(id, step.restarts);
        return;
      case "update": {
        const { kind: _kind, ...patch } = step;
        lifecycle.update(
          id,
          patch.pid === undefined ? patch : { ...patch, pid_start: startOf(patch.pid) },
        );
        return;
      }
      case "starting":
        lifecycle.starting(id, { pid: step.pid, pid_start: startOf(step.pid) });
        return;
      case "ready":
        lifecycle.ready(id, step.pid, startOf(step.pid));
        return;
      case "stopping":
        lifecycle.stopping(id);
        return;
    }
  }

  private get(id: string): AgentRecord {
    const agent = getAgent(this.deps.db, id);
    if (!agent) throw new NotFoundError(`no agent "${id}"`);
    return agent;
  }
}

/** When the process started (clock ticks after boot), as far as this host can tell. */
function startOf(pid: number | null): number | null {
  return pid === null ? null : processStart(pid);
}
