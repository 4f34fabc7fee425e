import type { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { BudgetGuard } from "./agents/budget-guard.ts";
import { CostBook } from "./agents/cost-book.ts";
import { Deadlines } from "./agents/deadlines.ts";
import { AgentLifecycle } from "./agents/lifecycle.ts";
import { PriceTable, readPriceFile } from "./agents/prices.ts";
import { AgentRecorder } from "./agents/recorder.ts";
import { AgentService } from "./agents/service.ts";
import type { AgentMode } from "./agents/status.ts";
import { TitleMaker } from "./agents/title.ts";
import { TurnLimits } from "./agents/turn-limits.ts";
import { AgentTurns } from "./agents/turns.ts";
import { TurnWaiters } from "./agents/waiters.ts";
import type { Config } from "./config.ts";
import { errorMessage } from "./errors.ts";
import { EventBus } from "./events/bus.ts";
import { log } from "./log.ts";
import { AgentLogs } from "./logs/agent-logs.ts";
import { AgentdMetrics } from "./metrics/metrics.ts";
import { builtinProtocols, type ProtocolRegistry } from "./protocols/index.ts";
import { PersistentRuntime } from "./runtimes/persistent/runtime.ts";
import { RunRuntime } from "./runtimes/run/runtime.ts";
import type { AgentRuntime, RuntimeDeps } from "./runtimes/runtime.ts";
import { createApp } from "./server/app.ts";
import { type Listener, listen } from "./server/listen.ts";
import { stateDirectoryWarnings } from "./state-dirs.ts";
import { StateLock } from "./state-lock.ts";
import { StorageHealth } from "./storage-health.ts";
import { updateAgent } from "./store/agents.ts";
import { startCheckpointer } from "./store/checkpointer.ts";
import { DatabaseHealth } from "./store/database-health.ts";
import { openDatabase } from "./store/db.ts";
import { Transactions } from "./store/transactions.ts";
import { lingerWarning } from "./systemd/linger.ts";
import { VERSION } from "./version.ts";
import { WebhookOutbox } from "./webhooks/outbox.ts";
import { AgentWorkspaces } from "./workspace/agent-workspaces.ts";

export interface RunningDaemon {
  url: string;
  port: number;
  /** Stop agents, close the server and the database. Safe to call more than once. */
  shutdown(): Promise<void>;
}

/**
 * Wire store, services and server together and start listening. Nothing is read or written
 * before this process holds the state's lock: a second daemon on the same database stops here.
 */
export async function startDaemon(config: Config): Promise<RunningDaemon> {
  const lock = StateLock.acquire(config.lockPath, config.dbPath);
  try {
    return await startLocked(config, lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function startLocked(config: Config, lock: StateLock): Promise<RunningDaemon> {
  for (const dir of [config.logRoot, config.workspaceRoot, config.stateDir]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  for (const warning of stateDirectoryWarnings(config)) log.warn(warning);
  const db = openDatabase(config.dbPath);
  const checkpointer = startCheckpointer(db);
  let agents: ReturnType<typeof wireAgents>;
  try {
    agents = wireAgents(config, db, builtinProtocols());
    await agents.service.recover();
  } catch (error) {
    await checkpointer.stop();
    db.close();
    throw error;
  }
  agents.turnLimits.recover();

  const app = createApp({
    config,
    version: VERSION,
    startedAt: Date.now(),
    agents: agents.service,
    events: agents.bus,
    workspaces: agents.workspaces,
    costs: agents.costs,
    metrics: agents.metrics,
    problems: () => agents.health.problems(),
    warnings: () => {
      const linger = lingerWarning(config.lingerFile);
      return [...stateDirectoryWarnings(config), ...(linger === null ? [] : [linger])];
    },
  });
  let listener: Listener;
  try {
    listener = listen(app, config);
  } catch (error) {
    await checkpointer.stop();
    db.close();
    throw error;
  }
  agents.outbox.start();
  const port = listener.port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  log.info(`agentd ${VERSION} listening on ${url} (db ${config.dbPath})`);

  let closing: Promise<void> | null = null;
  const shutdown = () => {
    closing ??= (async () => {
      log.info("shutting down: stopping agents");
      await agents.service.shutdown();
      await listener.stop();
      agents.outbox.stop();
      agents.deadlines.clear();
      agents.databaseHealth.stop();
      await agents.workspaces.close();
      await checkpointer.stop();
      db.close();
      lock.release();
      log.info("stopped");
    })();
    return closing;
  };
  return { url, port, shutdown };
}

/** Where agents' processes run: by default, daemon children and systemd units. */
export type RuntimeFactory = (deps: RuntimeDeps) => Record<AgentMode, AgentRuntime>;

const processRuntimes: RuntimeFactory = (deps) => ({
  run: new RunRuntime(deps),
  persistent: new PersistentRuntime(deps),
});

/** The agent half of the daemon, everything below HTTP: also what in-process tests build. */
export function wireAgents(
  config: Config,
  db: Database,
  protocols: ProtocolRegistry,
  runtimes: RuntimeFactory = processRuntimes,
) {
  const health = new StorageHealth();
  const databaseHealth = new DatabaseHealth(db, health);
  const transactions = new Transactions(db, databaseHealth);
  const bus = new EventBus(db, transactions, config.eventRetention);
  const metrics = new AgentdMetrics({ db, bus, version: VERSION });
  const outbox = new WebhookOutbox(db, {
    secret: config.webhookSecret,
    retryBaseMs: config.webhookRetryBaseMs,
    timeoutMs: config.webhookTimeoutMs,
    onAttempt: (outcome) => metrics.webhookAttempt(outcome),
  });
  const prices = new PriceTable(db);
  // The file is the operator's word at each start: it replaces what PUT /prices stored.
  if (config.pricesFile !== null) prices.replace(readPriceFile(config.pricesFile));
  const waiters = new TurnWaiters();
  const titles = new TitleMaker(config.title, (agentId, title) => {
    updateAgent(db, agentId, { title });
  });
  const workspaces = new AgentWorkspaces({ db, root: config.workspaceRoot });
  workspaces.followUse(bus);
  const deadlines = new Deadlines();
  const turnLimits: TurnLimits = new TurnLimits({
    db,
    deadlines,
    fail: (agentId, turnId, error) =>
      recorder.apply(agentId, [{ type: "turn.failed", turn_id: turnId, error }]),
    openTurns: (agentId): string[] => turns.openIds(agentId),
    interrupt: (agentId, turnIds) =>
      void service.interrupts.interrupt(agentId, turnIds, "the agent went silent during its turn"),
    recycle: (agentId, reason) => void service.recycle(agentId, reason),
  });
  const turns = new AgentTurns({ db, transactions, bus, waiters, observer: turnLimits });
  const lifecycle = new AgentLifecycle({ db, transactions, bus, outbox, turns });
  const budgets = new BudgetGuard({ db, transactions, bus, outbox });
  const recorder = new AgentRecorder({
    db,
    transactions,
    bus,
    turns,
    lifecycle,
    outbox,
    titles,
    prices,
    budgets,
    onApplied: (seconds) => metrics.batchApplied(seconds),
    heard: (agentId) => turnLimits.heard(agentId),
  });
  const logs = new AgentLogs({
    root: config.logRoot,
    limits: { maxBytes: config.logMaxBytes, keep: config.logKeep },
    health,
    report: (agentId, level, message) => recorder.apply(agentId, [{ type: "log", level, message }]),
  });
  const service = new AgentService({
    config,
    db,
    transactions,
    bus,
    lifecycle,
    turns,
    budgets,
    protocols,
    logs,
    runtimes: runtimes({ config, db, lifecycle, recorder, protocols, logs }),
    workspaces,
  });
  budgets.onExhausted = (agentId) => {
    service.interrupts.budgetExhausted(agentId).catch((error) => {
      log.error(`${agentId}: acting on its exhausted budget failed: ${errorMessage(error)}`);
    });
  };
  const costs = new CostBook(db, prices);
  return {
    service,
    bus,
    outbox,
    recorder,
    lifecycle,
    workspaces,
    costs,
    metrics,
    health,
    databaseHealth,
    deadlines,
    turnLimits,
  };
}
