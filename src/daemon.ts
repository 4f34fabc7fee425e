import { mkdirSync } from "node:fs";
import { AgentService } from "./agents/service.ts";
import { AgentState } from "./agents/state.ts";
import { TitleMaker } from "./agents/title.ts";
import { TurnWaiters } from "./agents/waiters.ts";
import type { Config } from "./config.ts";
import { EventBus } from "./events/bus.ts";
import { log } from "./log.ts";
import { lingerWarning } from "./persistent/linger.ts";
import { createApp } from "./server/app.ts";
import { type Listener, listen } from "./server/listen.ts";
import { updateAgent } from "./store/agents.ts";
import { openDatabase } from "./store/db.ts";
import { VERSION } from "./version.ts";
import { WebhookOutbox } from "./webhooks/outbox.ts";
import { AgentWorkspaces } from "./workspace/agent-workspaces.ts";

export interface RunningDaemon {
  url: string;
  port: number;
  /** Stop agents, close the server and the database. Safe to call more than once. */
  shutdown(): Promise<void>;
}

/** Wire store, services and server together and start listening. */
export async function startDaemon(config: Config): Promise<RunningDaemon> {
  for (const dir of [config.logRoot, config.workspaceRoot, config.stateDir]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const db = openDatabase(config.dbPath);
  const bus = new EventBus(db, config.eventRetention);
  const outbox = new WebhookOutbox(db, {
    secret: config.webhookSecret,
    retryBaseMs: config.webhookRetryBaseMs,
  });
  const waiters = new TurnWaiters();
  const titles = new TitleMaker(config.title, (agentId, title) => {
    updateAgent(db, agentId, { title });
  });
  const state = new AgentState({ db, bus, outbox, titles, waiters });
  const agents = new AgentService({ config, db, bus, state, waiters });
  agents.recover();
  const workspaces = new AgentWorkspaces({ db, root: config.workspaceRoot });

  const app = createApp({
    config,
    version: VERSION,
    startedAt: Date.now(),
    agents,
    events: bus,
    workspaces,
    warnings: () => {
      const warning = lingerWarning(config.lingerFile);
      return warning === null ? [] : [warning];
    },
  });
  let listener: Listener;
  try {
    listener = listen(app, config.host, config.port);
  } catch (error) {
    db.close();
    throw error;
  }
  outbox.start();
  const port = listener.port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  log.info(`agentd ${VERSION} listening on ${url} (db ${config.dbPath})`);

  let closing: Promise<void> | null = null;
  const shutdown = () => {
    closing ??= (async () => {
      log.info("shutting down: stopping agents");
      await agents.shutdown();
      await listener.stop();
      outbox.stop();
      await workspaces.close();
      db.close();
      log.info("stopped");
    })();
    return closing;
  };
  return { url, port, shutdown };
}
