import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ask, spawnFake, waitForStatus } from "../helpers/agents.ts";
import { startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";
import { waitFor } from "../helpers/wait.ts";
import { NO_AGENT, runCli, startCli } from "./run-cli.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startDaemon();
});

afterAll(stopAllDaemons);

const cliEnv = () => ({ env: { AGENTD_URL: daemon.url } });

/** `agentd ARGS...` pointed at the test daemon through AGENTD_URL. */
function agentd(args: string[]) {
  return runCli(args, cliEnv());
}

/** An agent that has answered `prompt` and is idle again. */
async function answeredAgent(prompt: string): Promise<string> {
  const { id } = await spawnFake(daemon, { prompt });
  await waitForStatus(daemon, id, "idle");
  return id;
}

async function eventStreams(): Promise<number> {
  return (await daemon.api<{ event_streams: number }>("/health")).body.event_streams;
}

describe("agentd logs -f", () => {
  test("prints what is appended while it runs, and ends when the agent stops", async () => {
    const id = await answeredAgent("before");
    const logs = startCli(["logs", id, "-f"], cliEnv());
    // The log so far arriving shows the follow is under way before anything new is appended.
    await waitFor("the log so far", () => logs.stdout().includes('"response":"echo: before"'));
    await ask(daemon, id, "while following");
    await waitFor("the appended lines", () =>
      logs.stdout().includes('"response":"echo: while following"'),
    );
    await daemon.api(`/agents/${id}/stop`, { method: "POST" });
    const { stderr, code } = await logs.result();
    expect({ stderr, code }).toEqual({ stderr: "", code: 0 });
  });

  test("--tail with --follow starts from the last lines", async () => {
    const id = await answeredAgent("tailed");
    await daemon.api(`/agents/${id}/stop`, { method: "POST" });
    const all = await agentd(["logs", id]);
    const followed = await agentd(["logs", id, "--follow", "--tail", "1"]);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toBe(`${all.stdout.trimEnd().split("\n").at(-1)}\n`);
  });
});

describe("agentd events", () => {
  test("prints an agent's stored events, one line each, and exits", async () => {
    const id = await answeredAgent("remembered");
    await spawnFake(daemon, { prompt: "someone else" });
    const { stdout, stderr, code } = await agentd(["events", id]);
    expect({ stderr, code }).toEqual({ stderr: "", code: 0 });
    const lines = stdout.trimEnd().split("\n");
    for (const line of lines) expect(line).toMatch(new RegExp(`^\\d+ \\S+Z ${id} \\S+ \\{.*\\}$`));
    expect(lines).toContainEqual(
      expect.stringMatching(/ turn\.completed \{"turn_id":"\S+","response":"echo: remembered"\}$/),
    );
  });

  test("--json prints the server's events as JSON Lines, and --since only those after a seq", async () => {
    const id = await answeredAgent("as json");
    const all = await agentd(["events", id, "--json"]);
    expect(all.code).toBe(0);
    const events = all.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { seq: number; agent_id: string; type: string });
    expect(events.every((event) => event.agent_id === id)).toBe(true);
    expect(events.map((event) => event.type)).toContain("turn.completed");

    const first = events[0]?.seq as number;
    const later = await agentd(["events", id, "--json", "--since", String(first)]);
    const laterSeqs = later.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line).seq);
    expect(laterSeqs).toEqual(events.slice(1).map((event) => event.seq));
  });

  test("without an ID, prints every agent's stored events", async () => {
    const one = await answeredAgent("one");
    const two = await answeredAgent("two");
    const { stdout, code } = await agentd(["events"]);
    expect(code).toBe(0);
    expect(stdout).toContain(` ${one} turn.completed `);
    expect(stdout).toContain(` ${two} turn.completed `);
  });

  test("-f prints events as they happen, until interrupted", async () => {
    const id = await answeredAgent("already answered");
    const before = await eventStreams();
    const events = startCli(["events", id, "-f"], cliEnv());
    await waitFor("the CLI to subscribe", async () => (await eventStreams()) > before);
    await ask(daemon, id, "live one");
    await waitFor("the live turn.completed", () =>
      events.stdout().includes(`"response":"echo: live one"`),
    );
    expect(events.stdout()).not.toContain("echo: already answered");
    events.proc.kill();
    await events.result();
  });

  test("an unknown agent prints the server's 404 message and exits 1", async () => {
    const { stderr, code } = await agentd(["events", "nope"]);
    expect({ stderr, code }).toEqual({ stderr: NO_AGENT, code: 1 });
  });
});
