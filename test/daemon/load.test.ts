import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { FAKE_AGENT_COMMAND } from "../helpers/agents.ts";
import { daemonDatabase, startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

const AGENTS = 50;
const LOAD_MS = 30_000;
/** Requests per second from the clients, besides the agents' own turns. */
const RATE = 40;
/** Tool events per turn: each turn is "FLOOD:20". */
const TOOLS_PER_TURN = 20;

function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;
}

/** Every `tool` event the daemon streams from now on, counted. */
function countStreamedTools(daemon: TestDaemon) {
  const controller = new AbortController();
  let tools = 0;
  const reading = (async () => {
    const response = await fetch(`${daemon.url}/events`, { signal: controller.signal });
    if (!response.body) throw new Error("no event stream");
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of response.body) {
      text += decoder.decode(chunk, { stream: true });
      const lines = text.split("\n");
      text = lines.pop() ?? "";
      for (const line of lines)
        if (line.startsWith("data:") && line.includes('"type":"tool"')) tools++;
    }
  })().catch((error) => {
    if (!controller.signal.aborted) throw error;
  });
  return {
    count: () => tools,
    stop: async () => {
      controller.abort();
      await reading;
    },
  };
}

test("50 agents streaming events while clients hit the API at a steady rate for 30 s: no failed request, no event lost, memory flat", async () => {
  const daemon = await startDaemon({
    args: ["--event-retention", "10000000"],
    env: { AGENTD_SSE_BUFFER: "1000000" },
  });
  const failures: string[] = [];
  const call = async (path: string, init?: RequestInit) => {
    try {
      const res = await daemon.api(path, init);
      if (res.status >= 300) failures.push(`${init?.method ?? "GET"} ${path}: ${res.status}`);
      return res;
    } catch (error) {
      failures.push(`${init?.method ?? "GET"} ${path}: ${String(error)}`);
      return null;
    }
  };
  const ids: string[] = [];
  for (let i = 0; i < AGENTS; i++) {
    const created = await daemon.api<{ id: string }>("/agents", {
      method: "POST",
      body: JSON.stringify({ name: `load${i}`, command: FAKE_AGENT_COMMAND, cwd: daemon.home }),
    });
    expect(created.status).toBe(201);
    ids.push(created.body.id);
  }
  const stream = countStreamedTools(daemon);
  const end = Date.now() + LOAD_MS;
  let turns = 0;
  // Each agent streams: one turn after the other, until the time is up.
  const agents = ids.map(async (id) => {
    while (Date.now() < end) {
      const res = await call(`/agents/${id}/send`, {
        method: "POST",
        body: JSON.stringify({
          message: `FLOOD:${TOOLS_PER_TURN}`,
          wait: true,
          timeout_ms: 60_000,
        }),
      });
      if ((res?.body as { status?: string } | undefined)?.status === "completed") turns++;
      else failures.push(`a turn of ${id} did not complete: ${JSON.stringify(res?.body)}`);
    }
  });
  // Clients at a steady rate, whether or not earlier requests have been answered.
  const reads = [
    () => call("/health"),
    () => call("/agents"),
    () => call(`/agents/${ids[Math.floor(Math.random() * AGENTS)]}`),
    () => call(`/agents/${ids[Math.floor(Math.random() * AGENTS)]}/turns?limit=5`),
  ];
  const inflight: Promise<unknown>[] = [];
  const rss: { at: number; bytes: number }[] = [];
  const began = Date.now();
  let tick = 0;
  const clients = setInterval(() => {
    inflight.push((reads[tick++ % reads.length] as () => Promise<unknown>)());
  }, 1000 / RATE);
  const sampler = setInterval(
    () => rss.push({ at: Date.now() - began, bytes: rssBytes(daemon.proc.pid) }),
    1000,
  );
  await Promise.all(agents);
  clearInterval(clients);
  clearInterval(sampler);
  await Promise.all(inflight);

  expect(failures).toEqual([]);
  expect(inflight.length).toBeGreaterThan((RATE * LOAD_MS) / 1000 / 2);
  expect(turns).toBeGreaterThan(AGENTS);
  // No event lost: every tool call of every completed turn is stored, and was streamed.
  const db = daemonDatabase(daemon);
  const stored = db
    .query<{ n: number }, []>("SELECT count(*) AS n FROM events WHERE type = 'tool'")
    .get()?.n;
  db.close();
  expect(stored).toBe(turns * TOOLS_PER_TURN);
  const streamed = await (async () => {
    const deadline = Date.now() + 10_000;
    while (stream.count() < turns * TOOLS_PER_TURN && Date.now() < deadline) await Bun.sleep(50);
    return stream.count();
  })();
  await stream.stop();
  expect(streamed).toBe(turns * TOOLS_PER_TURN);
  // Memory flat at the end: the last third of the run takes no more than the middle third
  // (medians of one sample a second: a garbage collection that comes late is not a leak).
  const third = (from: number, to: number) => {
    const samples = rss.filter((s) => s.at >= from && s.at < to).map((s) => s.bytes);
    return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)] as number;
  };
  const middle = third(LOAD_MS / 3, (2 * LOAD_MS) / 3);
  const last = third((2 * LOAD_MS) / 3, Number.POSITIVE_INFINITY);
  console.log(
    `${turns} turns, ${stored} tool events stored and streamed, ${inflight.length} client requests; daemon RSS (median) ${Math.round(middle / 2 ** 20)} MiB in the middle third, ${Math.round(last / 2 ** 20)} MiB in the last`,
  );
  expect(last).toBeLessThan(middle * 1.25);
}, 180_000);
