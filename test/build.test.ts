import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { spawnFake } from "./helpers/agents.ts";
import { REPO_ROOT, startDaemon, stopAllDaemons } from "./helpers/daemon.ts";
import { tempDir } from "./helpers/tmp.ts";
import { processGone, waitFor } from "./helpers/wait.ts";

afterAll(stopAllDaemons);

async function run(cmd: string[], cwd: string) {
  const proc = Bun.spawn(cmd, {
    cwd,
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: "/usr/bin:/bin", HOME: cwd },
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

describe("compiled binary", () => {
  const buildDir = tempDir("agentd-build-");
  const emptyDir = tempDir("agentd-empty-");
  const binary = join(emptyDir, "agentd");

  test("builds, and a copy in an empty directory prints its version", async () => {
    const built = await run([process.execPath, "build.ts", join(buildDir, "agentd")], REPO_ROOT);
    expect(built.stderr).toBe("");
    expect(built.code).toBe(0);
    copyFileSync(join(buildDir, "agentd"), binary);
    const version = await run([binary, "version"], emptyDir);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^agentd \d+\.\d+\.\d+/);
  }, 120_000);

  test("renders the embedded templates", async () => {
    const unit = await run([binary, "template", "agentd.service"], emptyDir);
    expect(unit.code).toBe(0);
    expect(unit.stdout).toContain(`ExecStart=${binary} daemon`);
    const agentUnit = await run([binary, "template", "agentd-agent@.service"], emptyDir);
    expect(agentUnit.stdout).toContain("Restart=on-failure");
    expect(agentUnit.stdout).not.toContain("{{");
    const script = await run([binary, "template", "agent-exec.sh"], emptyDir);
    expect(script.stdout).toStartWith("#!/usr/bin/env bash");
  });

  test("runs the daemon on port 0 and answers /health", async () => {
    const daemon = await startDaemon({ command: [binary] });
    const health = await daemon.api<{ ok: boolean }>("/health");
    expect(health.body.ok).toBe(true);
    expect(await daemon.stop()).toBe(0);
  });

  test("its agents do not outlive it when it is killed", async () => {
    const daemon = await startDaemon({ command: [binary] });
    const agent = await spawnFake(daemon);
    expect(processGone(agent.pid as number)).toBe(false);
    await daemon.stop("SIGKILL");
    await waitFor("the agent to die with the daemon", () => processGone(agent.pid as number));
  });
});
