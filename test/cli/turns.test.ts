import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnFake } from "../helpers/agents.ts";
import { startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";
import { NO_AGENT, runCli } from "./run-cli.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

let daemon: TestDaemon;
let id: string;

beforeAll(async () => {
  daemon = await startDaemon();
  id = (await spawnFake(daemon)).id;
});

afterAll(stopAllDaemons);

/** `agentd ARGS...` pointed at the test daemon through AGENTD_URL. */
function agentd(args: string[]) {
  return runCli(args, { env: { AGENTD_URL: daemon.url } });
}

describe("agentd send --wait", () => {
  test("prints the turn's answer and exits 0", async () => {
    const { stdout, stderr, code } = await agentd(["send", id, "how", "are", "you", "--wait"]);
    expect({ stdout, stderr, code }).toEqual({
      stdout: "echo: how are you\n",
      stderr: "",
      code: 0,
    });
  });

  test("a failing turn prints its error and exits 1", async () => {
    const { stdout, stderr, code } = await agentd(["send", id, "FAIL", "--wait"]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^agentd: turn \S+ failed: Mock failure\n$/);
  });

  test("--json prints the server's answer and keeps the exit code; --turn-id names the turn", async () => {
    const { stdout, code } = await agentd([
      "send",
      id,
      "FAIL",
      "--wait",
      "--json",
      "--turn-id",
      "cli-named-turn",
    ]);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({
      status: "error",
      turn_id: "cli-named-turn",
      error: "Mock failure",
    });
  });

  test("a wait that runs out exits 124 and names the attach command; attach then waits for the answer", async () => {
    const sent = await agentd(["send", id, "SLOW:3000", "--wait", "--timeout", "0.2"]);
    expect(sent.code).toBe(124);
    expect(sent.stdout).toBe("");
    const turn = /^agentd: turn (\S+) is still running; resume waiting with:\n/.exec(
      sent.stderr,
    )?.[1];
    expect(turn).toBeDefined();
    expect(sent.stderr).toEndWith(`\n  agentd attach ${id} ${turn}\n`);

    const early = await agentd(["attach", id, turn as string, "--timeout", "0.1"]);
    expect(early.code).toBe(124);
    expect(early.stderr).toContain(`agentd attach ${id} ${turn}`);

    const attached = await agentd(["attach", id, turn as string]);
    expect(attached).toEqual({ stdout: "echo: SLOW:3000\n", stderr: "", code: 0 });
  });
});

describe("agentd attach", () => {
  test("a turn that already failed prints its error and exits 1", async () => {
    const { stdout } = await agentd(["send", id, "FAIL", "--wait", "--json"]);
    const turn = (JSON.parse(stdout) as { turn_id: string }).turn_id;
    const attached = await agentd(["attach", id, turn]);
    expect(attached).toEqual({
      stdout: "",
      stderr: `agentd: turn ${turn} failed: Mock failure\n`,
      code: 1,
    });
  });

  test("--json prints the turn record", async () => {
    await agentd(["send", id, "recorded", "--wait", "--turn-id", "cli-json-turn"]);
    const { stdout, code } = await agentd(["attach", id, "cli-json-turn", "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      id: "cli-json-turn",
      status: "completed",
      response: "echo: recorded",
    });
  });

  test("an unknown agent or turn prints the server's 404 message and exits 1", async () => {
    const noTurn = await agentd(["attach", id, "no-such-turn"]);
    expect(noTurn.code).toBe(1);
    expect(noTurn.stderr).toBe(`agentd: agent ${id} has no turn "no-such-turn"\n`);
    const noAgent = await agentd(["attach", "nope", "no-such-turn"]);
    expect(noAgent).toEqual({ stdout: "", stderr: NO_AGENT, code: 1 });
  });
});

describe("usage errors (exit 2)", () => {
  test("--timeout without --wait, a --timeout that is not seconds, attach without a TURN", async () => {
    const cases: [string[], string][] = [
      [["send", id, "hi", "--timeout", "1"], "--timeout needs --wait"],
      [
        ["send", id, "hi", "--wait", "--timeout", "soon"],
        '--timeout must be a number of seconds, got "soon"',
      ],
      [["attach", id, "t", "--timeout", "-1"], '--timeout must be a number of seconds, got "-1"'],
      [["attach", id], "expected an AGENT and a TURN id"],
    ];
    for (const [args, message] of cases) {
      const { stderr, code } = await agentd(args);
      expect(code).toBe(2);
      expect(stderr).toContain(message);
    }
  });
});
