import { Database } from "bun:sqlite";
import { waitFor } from "../../test/helpers/wait.ts";
import { FLOOD_PROMPT, floodEvents } from "../fixtures/flood-lines.ts";
import { Agentd } from "./agentd.ts";
import { createAgent, removeAgent, turn } from "./agents.ts";
import { LineChild } from "./line-child.ts";
import { baselineProgram, FLOOD_AGENT } from "./paths.ts";
import { cpuSeconds } from "./proc.ts";
import type { BenchContext, Check, Sides } from "./scenario.ts";
import { median } from "./stats.ts";

/**
 * How far above the retention an agent's stored events may go during a flood: the issue allows
 * "retention + one batch"; a batch is taken to be at most this many events.
 */
const BATCH_ALLOWANCE = 1000;
/** How often the stored events are counted during the checked flood. */
const HELD_POLL_MS = 100;

export interface IngestSize {
  agents: number;
  linesPerAgent: number;
  /** Events kept per agent (--event-retention). */
  retention: number;
}

export interface IngestMode {
  /** run: the daemon's children, read from pipes; persistent: systemd units, read from files. */
  mode: "run" | "persistent";
  /** The environment that points agentd at a systemd user manager (persistent only). */
  env?: Record<string, string | undefined>;
}

/**
 * Both sides of an ingestion scenario, in lines per second: agentd with fresh agents on a
 * fresh daemon each time, and the pipe-reader baseline with the same flood agents.
 */
export async function ingestSides(
  context: BenchContext,
  size: IngestSize,
  how: IngestMode,
  close: () => Promise<void> = async () => {},
): Promise<Sides> {
  const { child: reader } = await LineChild.start(
    context.session,
    "the pipe-reader baseline",
    baselineProgram("pipe-reader.ts"),
  );
  const totalLines = size.agents * size.linesPerAgent;
  // CPU time per line of each side, less swayed than the rates by what else the machine runs.
  const cpu = { agentd: [] as number[], baseline: [] as number[], floor: [] as number[] };
  const floorRates: number[] = [];
  const baselineRates: number[] = [];
  const cpuPerLine = (pid: number, side: number[]) => {
    const before = cpuSeconds(pid);
    return () => side.push(((cpuSeconds(pid) - before) * 1e6) / totalLines);
  };
  /** One flood read by the baseline's reader, storing or not; its rate in lines per second. */
  const readFlood = async (cpuSide: number[], store: { retention: number } | null) => {
    const measured = cpuPerLine(reader.pid, cpuSide);
    const answer = await reader.request<{ ms: number; lines: number }>({
      agents: size.agents,
      lines: size.linesPerAgent,
      via: how.mode === "run" ? "pipe" : "file",
      dir: context.session.dir("pipe-reader"),
      ...(store && { store }),
    });
    // The floods' lines and each agent's agent_start and agent_complete.
    const expected = totalLines + 2 * size.agents;
    if (answer.lines !== expected) {
      throw new Error(`the baseline parsed ${answer.lines} lines, not ${expected}`);
    }
    measured();
    return totalLines / (answer.ms / 1000);
  };
  return {
    async agentd() {
      const flood = await FloodDaemon.start(context, size, how);
      try {
        const measured = cpuPerLine(flood.daemon.pid, cpu.agentd);
        const ms = await flood.floodAll();
        measured();
        return totalLines / (ms / 1000);
      } finally {
        await flood.close();
      }
    },
    async baseline() {
      const rate = await readFlood(cpu.baseline, null);
      baselineRates.push(rate);
      // The floor under any reader that persists, measured beside each repetition (not timed).
      floorRates.push(await readFlood(cpu.floor, { retention: size.retention }));
      return rate;
    },
    check: () => checkIngestion(context, size, how),
    notes: () => [
      `${size.agents === 1 ? "one agent" : `${size.agents} agents`} × ${size.linesPerAgent} lines, retention ${size.retention} events per agent`,
      cpuNote(cpu.agentd, cpu.baseline),
      floorNote(floorRates, baselineRates, cpu.floor),
    ],
    async close() {
      await reader.close();
      await close();
    },
  };
}

/** A daemon with flood agents that have answered a first prompt, ready to flood. */
class FloodDaemon {
  private static names = 0;

  private constructor(
    readonly daemon: Agentd,
    readonly ids: string[],
    private readonly persistent: boolean,
  ) {}

  static async start(context: BenchContext, size: IngestSize, how: IngestMode) {
    const daemon = await Agentd.start(context.session, context.agentd, {
      args: ["--event-retention", String(size.retention)],
      env: how.env,
    });
    const flood = new FloodDaemon(daemon, [], how.mode === "persistent");
    try {
      const body = (index: number) => ({
        name: `flood-${++FloodDaemon.names}-${index}`,
        mode: how.mode,
        command: FLOOD_AGENT,
        env: { FLOOD_LINES: String(size.linesPerAgent) },
      });
      // Persistent agents one by one: each start reloads systemd's unit files.
      if (flood.persistent) {
        for (let i = 0; i < size.agents; i++) flood.ids.push(await createAgent(daemon, body(i)));
      } else {
        const indexes = Array.from({ length: size.agents }, (_, index) => index);
        flood.ids.push(...(await Promise.all(indexes.map((i) => createAgent(daemon, body(i))))));
      }
      await Promise.all(flood.ids.map((id) => flood.firstTurn(id)));
      return flood;
    } catch (error) {
      await flood.close();
      throw error;
    }
  }

  /** Flood every agent at once; milliseconds until the last flood turn has completed. */
  async floodAll(): Promise<number> {
    const start = performance.now();
    await Promise.all(this.ids.map((id) => turn(this.daemon, id, FLOOD_PROMPT)));
    return performance.now() - start;
  }

  async close(): Promise<void> {
    try {
      // A persistent agent outlives the daemon: removing it stops its unit.
      if (this.persistent) for (const id of this.ids) await removeAgent(this.daemon, id);
    } finally {
      await this.daemon.stop();
    }
  }

  /** A persistent agent takes prompts once its unit has made its FIFO: until then, retry. */
  private async firstTurn(id: string): Promise<void> {
    if (!this.persistent) return turn(this.daemon, id, "ping");
    await waitFor(
      `persistent agent ${id} to take a prompt`,
      async () => {
        await turn(this.daemon, id, "ping");
        return true;
      },
      60_000,
    );
  }
}

/**
 * An untimed flood on a fresh daemon: is every event stored (by the seqs handed out), and do the
 * stored events stay near the retention while the flood goes on?
 */
async function checkIngestion(
  context: BenchContext,
  size: IngestSize,
  how: IngestMode,
): Promise<Check[]> {
  const flood = await FloodDaemon.start(context, size, how);
  try {
    const before = await lastSeqAfter(flood.daemon, 0);
    const held = new HeldEvents(flood.daemon.databasePath);
    try {
      await flood.floodAll();
    } finally {
      held.stop();
    }
    const expected = size.agents * floodEvents(size.linesPerAgent);
    const recorded = (await lastSeqAfter(flood.daemon, before, expected)) - before;
    const allowed = size.retention + BATCH_ALLOWANCE;
    return [
      {
        what: `every event stored: ${recorded} events recorded during the flood, ${expected} expected at least`,
        ok: recorded >= expected,
      },
      held.error === null
        ? {
            what: `retention during the flood: at most ${held.max} events stored for one agent (allowed ${allowed})`,
            ok: held.max <= allowed,
          }
        : { what: `retention during the flood unknown: ${held.error}`, ok: false },
    ];
  } finally {
    await flood.close();
  }
}

/**
 * The seq of the newest stored event, `since` if there is none after it. If at least `atLeast`
 * events came after `since`, the replay from just before the last of them is enough (a replay of
 * all of them would cost agentd more than the flood).
 */
async function lastSeqAfter(daemon: Agentd, since: number, atLeast = 0): Promise<number> {
  const near = await lastSeqInReplay(daemon, Math.max(since, since + atLeast - 1));
  return near ?? (await lastSeqInReplay(daemon, since)) ?? since;
}

/** The last seq in the replay of the events after `since`, null if there are none. */
async function lastSeqInReplay(daemon: Agentd, since: number): Promise<number | null> {
  const response = await daemon.fetch(`/events?follow=0&since=${since}`);
  if (!response.ok) throw new Error(`GET /events answered ${response.status}`);
  let last: number | null = null;
  for (const match of (await response.text()).matchAll(/^id: ?(\d+)$/gm)) {
    last = Math.max(last ?? 0, Number(match[1]));
  }
  return last;
}

/**
 * The most events one agent had stored at any poll, read from agentd's database beside it
 * (WAL lets a reader in without disturbing the writer). The one place the bench looks inside
 * agentd: its `events` table.
 */
class HeldEvents {
  max = 0;
  error: string | null = null;
  private readonly db: Database;
  private readonly timer: Timer;

  constructor(path: string) {
    this.db = new Database(path, { readonly: true });
    this.timer = setInterval(() => {
      try {
        const most = this.db
          .query<{ n: number }, []>(
            "SELECT count(*) AS n FROM events GROUP BY agent_id ORDER BY n DESC LIMIT 1",
          )
          .get();
        this.max = Math.max(this.max, most?.n ?? 0);
      } catch (error) {
        this.error = error instanceof Error ? error.message : String(error);
      }
    }, HELD_POLL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.db.close();
  }
}

/** What the storing reader reached: the most any reader that persists every line can expect. */
function floorNote(rates: number[], baselineRates: number[], cpu: number[]): string {
  if (rates.length === 0 || baselineRates.length === 0) return "floor: not measured";
  const rate = median(rates);
  return `floor: the baseline's reader storing what it parses (each chunk to a log file, each line serialised again, a SQLite row per chunk in its own transaction, pruned to the retention) reads ${Math.round(rate)} lines/s, ${(rate / median(baselineRates)).toFixed(3)}× the baseline, at ${median(cpu).toFixed(2)} µs CPU per line`;
}

/** The median CPU time per line of each side (the daemon's process; the baseline's reader). */
function cpuNote(agentd: number[], baseline: number[]): string {
  if (agentd.length === 0 || baseline.length === 0) return "CPU per line: not measured";
  const [ours, theirs] = [median(agentd), median(baseline)];
  return `CPU per line (median, the daemon's process with all its threads; the baseline's reader): agentd ${ours.toFixed(2)} µs, baseline ${theirs.toFixed(2)} µs, a ratio of ${(theirs / ours).toFixed(3)}× by CPU time`;
}
