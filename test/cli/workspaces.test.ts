import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { formatBytes } from "../../src/cli/workspaces.ts";
import { daemonPaths, startDaemon, stopAllDaemons } from "../helpers/daemon.ts";
import { tempDir } from "../helpers/tmp.ts";
import { seedWorkspaces } from "../helpers/workspaces.ts";
import { runCli } from "./run-cli.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

describe("agentd workspaces and agentd gc", () => {
  test("list the workspaces, then report and remove what is old, keeping work", async () => {
    const home = tempDir("agentd-daemon-");
    const { old, risky } = await seedWorkspaces(daemonPaths(home).db, daemonPaths(home).workspace);
    const daemon = await startDaemon({ home });
    const url = ["--url", daemon.url];

    const listed = await runCli(["workspaces", ...url]);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^AGENT\s+KIND\s+STATUS\s+AGENT STATUS\s+SIZE\s+LAST USED\s+PATH$/);
    expect(lines.find((line) => line.startsWith("old "))).toMatch(
      new RegExp(`^old\\s+dir\\s+active\\s+stopped\\s+8\\.0 KiB\\s+\\S+\\s+${old}$`),
    );
    expect(lines.find((line) => line.startsWith("risky "))).toContain(
      `${risky.path} (agentd/risky)`,
    );

    const dry = await runCli(["gc", "--dry-run", ...url]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would remove old: dir ${old} (8.0 KiB)`);
    expect(dry.stdout).toContain("kept risky: it holds work:");
    expect(dry.stdout).toContain("1 would remove (8.0 KiB), 2 kept; unused for over 1w");
    expect(existsSync(old)).toBe(true);

    const real = await runCli(["gc", "--older-than", "1d", ...url]);
    expect(real.code).toBe(0);
    expect(real.stdout).toContain("2 removed (16.0 KiB), 1 kept; unused for over 1d");
    expect(existsSync(old)).toBe(false);

    const bad = await runCli(["gc", "--older-than", "soon", ...url]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('older_than "soon" is not a duration');
  });

  test("sizes are written in binary units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(26 * 1024 ** 3)).toBe("26.0 GiB");
  });
});
