/**
 * The ingestion baseline: flood agents read the plain way — split on "\n" and JSON.parse each
 * line, nothing stored. Their stdout is either a pipe, or (like a persistent agent's under
 * systemd) a file opened for appending, which is followed as it grows.
 *
 * With `store`, the same reader also does the least that persisting the lines takes — the
 * floor under any reader that keeps them as agentd must: each chunk written to a log file,
 * each parsed line serialised again, and one SQLite row per chunk (WAL, synchronous=NORMAL,
 * a transaction per chunk) with the oldest rows past `retention` lines deleted.
 *
 * Request: {agents, lines, via: "pipe" | "file", dir, store?: {retention}}; answer: {ms,
 * lines} for the flood turn, timed from writing the prompts to parsing the last agent's
 * agent_complete.
 */
import { Database } from "bun:sqlite";
import {
  closeSync,
  type FSWatcher,
  mkdtempSync,
  openSync,
  readSync,
  watch,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { FLOOD_PROMPT } from "../fixtures/flood-lines.ts";
import { FLOOD_AGENT } from "../lib/paths.ts";
import { serve } from "./protocol.ts";

/** Counts lines and finished turns in a stream of bytes. */
class LineParser {
  lines = 0;
  turnsDone = 0;
  private rest = "";
  private readonly decoder = new TextDecoder();
  private waiting: { turns: number; resolve: () => void } | null = null;

  constructor(
    private readonly store: { chunk(bytes: Uint8Array, values: unknown[]): void } | null,
  ) {}

  push(chunk: Uint8Array): void {
    const parts = (this.rest + this.decoder.decode(chunk, { stream: true })).split("\n");
    this.rest = parts.pop() ?? "";
    const values: unknown[] = [];
    for (const part of parts) {
      const value = JSON.parse(part);
      this.lines++;
      if (value.custom_type === "agent_complete") this.turnsDone++;
      values.push(value);
    }
    this.store?.chunk(chunk, values);
    if (this.waiting && this.turnsDone >= this.waiting.turns) this.waiting.resolve();
  }

  untilTurnsDone(turns: number): Promise<void> {
    if (this.turnsDone >= turns) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting = { turns, resolve };
    });
  }
}

/** The agents' lines kept: a log file each, and rows in one SQLite database for all. */
class ChunkStore {
  private readonly home: string;
  private readonly logs = new Map<number, number>();
  private readonly stored = new Map<number, number>();
  private readonly db: Database;
  private readonly insert;
  private readonly prune;

  constructor(
    dir: string,
    private readonly retention: number,
  ) {
    this.home = mkdtempSync(join(dir, "store-"));
    this.db = new Database(join(this.home, "lines.db"));
    this.db.run("PRAGMA journal_mode = WAL");
    this.db.run("PRAGMA synchronous = NORMAL");
    this.db.run(
      "CREATE TABLE chunks (agent INTEGER, last INTEGER, count INTEGER, lines TEXT, PRIMARY KEY (agent, last)) STRICT",
    );
    this.insert = this.db.prepare("INSERT INTO chunks VALUES (?, ?, ?, ?)");
    this.prune = this.db.prepare("DELETE FROM chunks WHERE agent = ? AND last <= ?");
  }

  chunk(agent: number, bytes: Uint8Array, values: unknown[]): void {
    writeSync(this.logOf(agent), bytes);
    if (values.length === 0) return;
    const lines = JSON.stringify(values.map((value) => JSON.stringify(value)));
    const stored = (this.stored.get(agent) ?? 0) + values.length;
    this.stored.set(agent, stored);
    this.db.transaction(() => {
      this.insert.run(agent, stored, values.length, lines);
      if (stored > this.retention) this.prune.run(agent, stored - this.retention);
    })();
  }

  close(): void {
    for (const fd of this.logs.values()) closeSync(fd);
    this.db.close();
  }

  private logOf(agent: number): number {
    let fd = this.logs.get(agent);
    if (fd === undefined) {
      fd = openSync(join(this.home, `agent-${agent}.log`), "a");
      this.logs.set(agent, fd);
    }
    return fd;
  }
}

interface Agent {
  proc: Subprocess<"pipe", "pipe" | number, "inherit">;
  parser: LineParser;
  stopReading(): void;
}

function startAgent(
  lines: number,
  via: string,
  dir: string,
  index: number,
  store: ChunkStore | null,
): Agent {
  const parser = new LineParser(
    store && { chunk: (bytes, values) => store.chunk(index, bytes, values) },
  );
  const env = { ...process.env, FLOOD_LINES: String(lines) };
  const argv = [...FLOOD_AGENT, "--provider", "auto", "--model", "auto", "--json"];
  if (via === "pipe") {
    const proc = Bun.spawn(argv, { stdin: "pipe", stdout: "pipe", stderr: "inherit", env });
    void (async () => {
      for await (const chunk of proc.stdout) parser.push(chunk);
    })();
    return { proc, parser, stopReading: () => {} };
  }
  const path = join(dir, `agent-${index}.events.jsonl`);
  const out = openSync(path, "a");
  const proc = Bun.spawn(argv, { stdin: "pipe", stdout: out, stderr: "inherit", env });
  closeSync(out);
  return { proc, parser, stopReading: followFile(path, parser) };
}

/** Read the file as it grows: to its end, then again on each change inotify reports. */
function followFile(path: string, parser: LineParser): () => void {
  const fd = openSync(path, "r");
  const buffer = Buffer.alloc(1024 * 1024);
  let offset = 0;
  let stopped = false;
  let changed: (() => void) | null = null;
  const watcher: FSWatcher = watch(path, () => changed?.());
  void (async () => {
    while (!stopped) {
      const length = readSync(fd, buffer, 0, buffer.length, offset);
      if (length > 0) {
        offset += length;
        parser.push(buffer.subarray(0, length));
        continue;
      }
      // A change event may be missed between the read and now: look again after 10 ms anyway.
      await new Promise<void>((resolve) => {
        changed = resolve;
        setTimeout(resolve, 10);
      });
    }
    watcher.close();
    closeSync(fd);
  })();
  return () => {
    stopped = true;
    changed?.();
  };
}

function prompt(agents: Agent[], text: string): void {
  for (const agent of agents) {
    agent.proc.stdin.write(`${text}\0`);
    agent.proc.stdin.flush();
  }
}

async function turnsDone(agents: Agent[], turns: number): Promise<void> {
  await Promise.all(agents.map((agent) => agent.parser.untilTurnsDone(turns)));
}

async function flood(request: Record<string, unknown>): Promise<Record<string, unknown>> {
  const {
    agents: count,
    lines,
    via,
    dir,
    store: storing,
  } = request as {
    agents: number;
    lines: number;
    via: "pipe" | "file";
    dir: string;
    store?: { retention: number };
  };
  const store = storing ? new ChunkStore(dir, storing.retention) : null;
  const agents = Array.from({ length: count }, (_, index) =>
    startAgent(lines, via, dir, index, store),
  );
  try {
    // Every agent up and answering before the clock starts.
    prompt(agents, "ping");
    await turnsDone(agents, 1);
    const before = agents.reduce((sum, agent) => sum + agent.parser.lines, 0);
    const start = performance.now();
    prompt(agents, FLOOD_PROMPT);
    await turnsDone(agents, 2);
    const ms = performance.now() - start;
    const after = agents.reduce((sum, agent) => sum + agent.parser.lines, 0);
    return { ms, lines: after - before };
  } finally {
    for (const agent of agents) {
      agent.stopReading();
      agent.proc.stdin.end();
    }
    await Promise.all(agents.map((agent) => agent.proc.exited));
    store?.close();
  }
}

await serve({ ready: true }, flood);
