import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Agentd } from "./agentd.ts";
import { createAgent } from "./agents.ts";
import { LineChild } from "./line-child.ts";
import { baselineProgram, IDLE_AGENT } from "./paths.ts";
import type { BenchContext, Sides } from "./scenario.ts";
import { requireWrk, wrk } from "./wrk.ts";

export interface ReadLoad {
  /** Agents the daemon holds. */
  agents: number;
  /** What is read: the whole list, or one agent. */
  read: "list" | "one";
  connections: number;
}

/**
 * The whole list in one page (GET /agents answers 100 agents a page by default), so that both
 * sides answer the same bytes: every agent.
 */
const LIST_PATH = "/agents?limit=1000";

/** Requests the API sees at once while the agents are created. */
const CREATE_CONCURRENCY = 16;

/**
 * A read-only HTTP route under wrk: agentd holding `agents` agents (created stopped: only their
 * records matter), against the static-json baseline answering the very bytes agentd answered.
 */
export async function readSides(context: BenchContext, load: ReadLoad): Promise<Sides> {
  requireWrk();
  const seconds = context.smoke ? 1 : 2;
  const daemon = await Agentd.start(context.session, context.agentd);
  let server: LineChild | undefined;
  try {
    const ids = await createStopped(daemon, load.agents);
    const path = load.read === "list" ? LIST_PATH : `/agents/${ids[0]}`;
    const dir = context.session.dir("static-json");
    const bodies = [join(dir, "list.json"), join(dir, "one.json")] as const;
    writeFileSync(bodies[0], await (await daemon.fetch(LIST_PATH)).text());
    writeFileSync(bodies[1], await (await daemon.fetch(`/agents/${ids[0]}`)).text());
    const bytes = (await (await daemon.fetch(path)).arrayBuffer()).byteLength;
    const started = await LineChild.start(context.session, "the static-json baseline", [
      ...baselineProgram("static-json.ts"),
      ...bodies,
    ]);
    server = started.child;
    const baseUrl = started.ready.url as string;
    const running = server;
    return {
      agentd: () => wrk(context.session, `${daemon.url}${path}`, { ...load, seconds }),
      baseline: () => wrk(context.session, `${baseUrl}${path}`, { ...load, seconds }),
      notes: () => [
        `${load.agents} agents stored, GET ${load.read === "list" ? LIST_PATH : "/agents/:id"} answers ${bytes} bytes; wrk, ${load.connections} connections, ${seconds} s per measurement`,
      ],
      async close() {
        await running.close();
        await daemon.stop();
      },
    };
  } catch (error) {
    await server?.close();
    await daemon.stop();
    throw error;
  }
}

async function createStopped(daemon: Agentd, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let first = 0; first < count; first += CREATE_CONCURRENCY) {
    const batch = Array.from(
      { length: Math.min(CREATE_CONCURRENCY, count - first) },
      (_, i) => first + i,
    );
    ids.push(
      ...(await Promise.all(
        batch.map((i) =>
          createAgent(daemon, { name: `agent${i}`, command: IDLE_AGENT, start: false }),
        ),
      )),
    );
  }
  return ids;
}
