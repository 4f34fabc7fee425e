import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import pkg from "../../package.json" with { type: "json" };
import { REPO_ROOT, startDaemon, stopAllDaemons } from "../helpers/daemon.ts";
import { runCli } from "./run-cli.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

function checkoutCommit(): string {
  const git = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT });
  return git.stdout.toString().trim();
}

describe("version, from source", () => {
  test("version --json gives the -dev version, the checkout's commit, Bun's version and no build time", async () => {
    const { stdout, code } = await runCli(["version", "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      version: `${pkg.version}-dev`,
      commit: checkoutCommit(),
      bun: Bun.version,
      built_at: null,
    });
  });

  test("/health reports the version `agentd version` prints", async () => {
    const printed = await runCli(["version"]);
    const daemon = await startDaemon();
    const health = await daemon.api<{ version: string }>("/health");
    expect(printed.stdout).toBe(`agentd ${health.body.version}\n`);
    await daemon.stop();
  });
});
