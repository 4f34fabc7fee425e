import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { AgentView as AgentJson } from "../../src/api/schemas.ts";
import { MAIN, startDaemon, stopAllDaemons } from "../helpers/daemon.ts";
import { waitFor } from "../helpers/wait.ts";
import { runCli } from "./run-cli.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

interface OmniLine {
  type: string;
  custom_type?: string;
  data?: { turn_id?: string; response?: string };
  model?: string;
  tokens?: number;
  cost_cents?: number;
}

/** Pipe NUL-framed prompts into `agentd echo-agent ARGS...`; returns its exit code and lines. */
async function echoAgent(prompts: string[], args: string[] = []) {
  const stdin = prompts.map((prompt) => `${prompt}\0`).join("");
  const { stdout, stderr, code } = await runCli(["echo-agent", ...args], { stdin });
  const lines = stdout
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as OmniLine);
  return { lines, stderr, code };
}

const kinds = (lines: OmniLine[]) => lines.map((line) => line.custom_type ?? line.type);

describe("agentd echo-agent", () => {
  test("answers a raw prompt with agent_start, infer_start, infer_end and agent_complete, then exits 0 at EOF", async () => {
    const { lines, stderr, code } = await echoAgent(["hello world"]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(kinds(lines)).toEqual(["agent_start", "infer_start", "infer_end", "agent_complete"]);
    expect(lines[3]?.data?.response).toBe("echo: hello world");
    expect(lines[3]?.data?.turn_id).toBeUndefined();
  });

  test("reports usage on infer_end: some tokens and 0.1 cents", async () => {
    const { lines } = await echoAgent(["count these words"]);
    const inferEnd = lines.find((line) => line.type === "infer_end");
    expect(inferEnd?.tokens).toBeGreaterThan(0);
    expect(inferEnd?.cost_cents).toBe(0.1);
  });

  test("echoes the turn id of a v1 envelope in agent_start and agent_complete", async () => {
    const envelope = JSON.stringify({
      v: 1,
      turn_id: "t-7",
      input: "from an envelope",
      metadata: {},
    });
    const { lines } = await echoAgent([envelope]);
    expect(lines[0]?.data?.turn_id).toBe("t-7");
    expect(lines[3]?.data).toEqual({ turn_id: "t-7", response: "echo: from an envelope" });
  });

  test("answers every prompt of a stream, in order", async () => {
    const { lines } = await echoAgent(["one", "two", "three"]);
    const responses = lines.filter((line) => line.custom_type === "agent_complete");
    expect(responses.map((line) => line.data?.response)).toEqual([
      "echo: one",
      "echo: two",
      "echo: three",
    ]);
  });

  test("accepts the launch flags agentd passes, unknown ones included, and reports --model", async () => {
    const args = ["--provider", "p", "--model", "m1", "--json", "--run-id", "x", "--whatever"];
    const { lines, code } = await echoAgent(["hi"], args);
    expect(code).toBe(0);
    expect(lines.find((line) => line.type === "infer_start")?.model).toBe("m1");
  });

  test("run by the daemon, it completes turns whose cost and summary reach the agent", async () => {
    const daemon = await startDaemon();
    const env = { AGENTD_URL: daemon.url };
    const command = `${process.execPath} ${MAIN} echo-agent`;
    const spawned = await runCli(["spawn", "--name", "echo", "--command", command, "hello"], {
      env,
    });
    expect(spawned.code).toBe(0);
    const id = spawned.stdout.trim();
    const afterTurns = (turns: number) =>
      waitFor(`${id} to finish ${turns} turn(s)`, async () => {
        const { stdout } = await runCli(["show", "--json", id], { env });
        const agent = JSON.parse(stdout) as AgentJson;
        return agent.turns === turns && agent.status === "idle" ? agent : undefined;
      });

    const first = await afterTurns(1);
    expect(first.summary).toBe("echo: hello");
    expect(first.cost_micro_usd).toBe(1000);

    expect((await runCli(["send", id, "again"], { env })).code).toBe(0);
    const second = await afterTurns(2);
    expect(second.summary).toBe("echo: again");
    expect(second.cost_micro_usd).toBe(2000);
    expect(second.output_tokens).toBeGreaterThan(first.output_tokens);
  });
});
