import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { runCli } from "./run-cli.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

const agentd = (...args: string[]) => runCli(args);

describe("command line", () => {
  test("help lists every command", async () => {
    const { stdout, code } = await agentd("help");
    expect(code).toBe(0);
    for (const command of [
      "daemon",
      "spawn",
      "ls",
      "show",
      "send",
      "stop",
      "rm",
      "logs",
      "echo-agent",
    ])
      expect(stdout).toContain(command);
  });

  test("`agentd help CMD` and `agentd CMD --help` both print the command's usage", async () => {
    const viaHelp = await agentd("help", "daemon");
    const viaFlag = await agentd("daemon", "--help");
    expect(viaHelp.code).toBe(0);
    expect(viaFlag.code).toBe(0);
    expect(viaHelp.stdout).toContain("usage: agentd daemon");
    expect(viaFlag.stdout).toBe(viaHelp.stdout);
  });

  test("an unknown command exits 2 with usage on stderr", async () => {
    const { stderr, stdout, code } = await agentd("frobnicate");
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain('unknown command "frobnicate"');
    expect(stderr).toContain("usage: agentd");
  });

  test("an unknown flag exits 2 with the command's usage on stderr", async () => {
    const { stderr, code } = await agentd("daemon", "--no-such-flag");
    expect(code).toBe(2);
    expect(stderr).toContain("unknown flag: --no-such-flag");
    expect(stderr).toContain("usage: agentd daemon");
  });

  test("version prints the version", async () => {
    const { stdout, code } = await agentd("version");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^agentd \d+\.\d+\.\d+/);
  });
});
