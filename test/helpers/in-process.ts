import { afterAll } from "bun:test";
import { join } from "node:path";
import { resolveConfig, type SettingFlags } from "../../src/config.ts";
import { type RuntimeFactory, wireAgents } from "../../src/daemon.ts";
import { builtinProtocols } from "../../src/protocols/index.ts";
import type { ProtocolDriver } from "../../src/protocols/session.ts";
import { createApp } from "../../src/server/app.ts";
import { openDatabase } from "../../src/store/db.ts";
import { MemoryRuntime } from "../fixtures/memory-runtime.ts";
import { scripted } from "../fixtures/scripted-protocol.ts";
import { readAnswer } from "./http.ts";
import { tempDir } from "./tmp.ts";

const opened: { close(): void }[] = [];

afterAll(() => {
  for (const world of opened.splice(0)) world.close();
});

export interface InProcessOptions {
  /** Protocols besides the built-in ones and `scripted`. */
  protocols?: ProtocolDriver[];
  /** Where agents run; by default a MemoryRuntime for both modes (the test plays the agent). */
  runtimes?: RuntimeFactory;
  /** Settings as the daemon's flags would give them (paths are the world's own). */
  flags?: SettingFlags;
}

/**
 * agentd without a daemon process: the real service, lifecycle, recorder, store (a real SQLite
 * file) and Elysia app, wired as the daemon wires them, reached by direct calls and by
 * `app.handle(new Request(…))`.
 */
export function inProcessAgentd(options: InProcessOptions = {}) {
  const home = tempDir("agentd-inprocess-");
  const config = resolveConfig({
    flags: {
      ...options.flags,
      db: join(home, "agentd.db"),
      logRoot: join(home, "logs"),
      workspace: join(home, "workspaces"),
      stateDir: join(home, "agents"),
      ...options.flags,
    },
    env: { PATH: process.env.PATH },
    uid: process.getuid?.() ?? 1000,
    home,
    cwd: home,
  });
  const db = openDatabase(config.dbPath);
  const protocols = builtinProtocols();
  for (const driver of [scripted, ...(options.protocols ?? [])]) {
    protocols.set(driver.name, driver);
  }
  let memory: MemoryRuntime | null = null;
  const runtimes: RuntimeFactory =
    options.runtimes ??
    ((deps) => {
      memory = new MemoryRuntime(deps);
      return { run: memory, persistent: memory };
    });
  const agents = wireAgents(config, db, protocols, runtimes);
  const app = createApp({
    config,
    version: "test",
    startedAt: Date.now(),
    agents: agents.service,
    events: agents.bus,
    workspaces: agents.workspaces,
    costs: agents.costs,
    metrics: agents.metrics,
    problems: () => agents.health.problems(),
    warnings: () => [],
  });
  const world = {
    home,
    config,
    db,
    service: agents.service,
    bus: agents.bus,
    lifecycle: agents.lifecycle,
    costs: agents.costs,
    metrics: agents.metrics,
    health: agents.health,
    deadlines: agents.deadlines,
    turnLimits: agents.turnLimits,
    app,
    /** The test's hand in the agents' place (only with the default runtimes). */
    get agent(): MemoryRuntime {
      if (!memory) throw new Error("this world runs real processes");
      return memory;
    },
    async request<T = unknown>(
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) {
      const request = new Request(`http://localhost${path}`, {
        method,
        headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return readAnswer<T>(await app.handle(request));
    },
    close: () => {
      agents.databaseHealth.stop();
      void agents.service
        .shutdown()
        .then(() => agents.workspaces.close())
        .finally(() => db.close());
    },
  };
  opened.push(world);
  return world;
}
