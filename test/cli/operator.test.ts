import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import type { AgentView } from "../../src/api/schemas.ts";
import { REPO_ROOT, startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";
import { waitFor } from "../helpers/wait.ts";
import { type CliOptions, runCli } from "./run-cli.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

/** Rough edges a new operator met, each smoothed: addresses, quoting, names, messages. */

const FAKE_AGENT = join(REPO_ROOT, "test/fixtures/fake-agent.ts");
const FAKE_COMMAND = `${process.execPath} ${FAKE_AGENT}`;

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startDaemon();
});

afterAll(stopAllDaemons);

function agentd(args: string[], options: CliOptions = {}) {
  return runCli(args, { ...options, env: { AGENTD_URL: daemon.url, ...options.env } });
}

async function spawn(...args: string[]): Promise<string> {
  const { stdout, stderr, code } = await agentd(["spawn", "--command", FAKE_COMMAND, ...args]);
  expect({ stderr, code }).toEqual({ stderr: "", code: 0 });
  return stdout.trim();
}

async function agent(id: string): Promise<AgentView> {
  return (await daemon.api<AgentView>(`/agents/${id}`)).body;
}

describe("agentd with no arguments, and agentd help", () => {
  test("no arguments prints the usage on stderr and exits 2; help prints it on stdout and exits 0", async () => {
    const bare = await runCli([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe("");
    expect(bare.stderr).toContain("usage: agentd COMMAND");
    const help = await runCli(["help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(bare.stderr);
  });
});

describe("--url", () => {
  test("an address without a scheme is taken as http", async () => {
    const hostPort = daemon.url.replace(/^http:\/\//, "");
    const { stdout, code } = await runCli(["ls", "-q", "--url", hostPort]);
    expect(code).toBe(0);
    expect(stdout).toBe((await agentd(["ls", "-q"])).stdout);
    const fromEnv = await runCli(["ls", "-q"], { env: { AGENTD_URL: hostPort } });
    expect(fromEnv.code).toBe(0);
  });

  test("an address that is not http(s) is a usage error saying what to give", async () => {
    const ftp = await runCli(["ls", "--url", "ftp://127.0.0.1:8400"]);
    expect(ftp.code).toBe(2);
    expect(ftp.stderr).toContain('--url "ftp://127.0.0.1:8400" must be an http:// or https://');
    const broken = await runCli(["ls"], { env: { AGENTD_URL: "http://[::1" } });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain("AGENTD_URL");
    expect(broken.stderr).toContain("HOST:PORT");
  });
});

describe("--command", () => {
  test("is split with shell quoting: quoted words stay whole", async () => {
    const id = await spawn("--command", `${FAKE_COMMAND} 'two words' "and \\"more\\""`, "ARGV");
    const answer = await waitFor("the first answer", async () => {
      const messages = await daemon.api<{ role: string; content: string }[]>(
        `/agents/${id}/messages`,
      );
      return messages.body.find((message) => message.role === "assistant")?.content;
    });
    expect(JSON.parse(answer).argv.slice(0, 2)).toEqual(["two words", 'and "more"']);
    expect((await agent(id)).command?.slice(1)).toEqual([FAKE_AGENT, "two words", 'and "more"']);
  });

  test("shell operators are refused, with what to do instead", async () => {
    const { stderr, code } = await agentd(["spawn", "--command", "agent | tee log"]);
    expect(code).toBe(2);
    expect(stderr).toContain('shell operator "|"');
    expect(stderr).toContain("sh -c");
  });
});

describe("agents by name or id prefix", () => {
  test("a name, or the start of an id, names the agent wherever an id is taken", async () => {
    const id = await spawn("--name", "solo-agent");
    const byName = await agentd(["show", "--json", "solo-agent"]);
    expect(byName.code).toBe(0);
    expect(JSON.parse(byName.stdout).id).toBe(id);
    const prefix = id.slice(0, "solo-agent-".length + 2);
    const sent = await agentd(["send", prefix, "--wait", "hello"]);
    expect(sent).toMatchObject({ code: 0, stdout: "echo: hello\n" });
    const stopped = await agentd(["stop", "solo-agent"]);
    expect(stopped.stdout).toBe(`${id} stopped\n`);
  });

  test("a name or prefix that fits several agents lists them and exits 1", async () => {
    const first = await spawn("--name", "twin", "--no-start");
    const second = await spawn("--name", "twin", "--no-start");
    const { stdout, stderr, code } = await agentd(["show", "twin"]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toStartWith('agentd: "twin" names 2 agents; give more of the id:\n');
    expect(stderr).toContain(first);
    expect(stderr).toContain(second);
    const prefix = await agentd(["show", "tw"]);
    expect(prefix.code).toBe(1);
    expect(prefix.stderr).toContain('"tw" names 2 agents');
    expect((await agentd(["show", "--json", second])).code).toBe(0);
  });
});

describe("an agent program that is not installed", () => {
  test("the message names the flag, the environment variable, the drivers and the echo agent", async () => {
    const { stderr, code } = await agentd(["spawn", "hello"]);
    expect(code).toBe(1);
    for (const part of [
      '"agent" (--agent-command / AGENTD_AGENT_COMMAND) is not on the daemon\'s PATH',
      "--command",
      "protocol",
      "omni",
      'agentd spawn --command "agentd echo-agent" hello',
    ]) {
      expect(stderr).toContain(part);
    }
  });
});

describe("show of an agent that failed", () => {
  test("prints its last stderr lines and how to read the whole log", async () => {
    const id = await spawn("STDERR then CRASH");
    await waitFor("the agent to fail", async () => (await agent(id)).status === "failed");
    const { stdout, code } = await agentd(["show", id]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^exit code: +3$/m);
    expect(stdout).toContain("last stderr lines:\n  warming up\n  still going\n");
    expect(stdout).toContain(`the whole log: agentd logs ${id}\n`);
  });
});
