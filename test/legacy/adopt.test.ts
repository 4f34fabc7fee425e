import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentView } from "../../src/api/schemas.ts";
import { runCli } from "../cli/run-cli.ts";
import { createOriginalDatabase, insertRow } from "../fixtures/original-db.ts";
import { writeOriginalEnvFile, writeOriginalRuntime } from "../fixtures/original-persistent.ts";
import { ask, FAKE_AGENT } from "../helpers/agents.ts";
import { daemonPaths, startDaemon, stopAllDaemons, type TestDaemon } from "../helpers/daemon.ts";
import { describeWithSystemd, startUserManager } from "../helpers/systemd.ts";
import { tempDir } from "../helpers/tmp.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

const manager = await startUserManager();

afterAll(async () => {
  await stopAllDaemons();
  await manager?.stop();
});

describeWithSystemd("adopting the original's persistent agents", manager, (systemd) => {
  const dir = join(systemd.configHome, "agentd-agents");
  const unitPath = join(systemd.configHome, "systemd/user/agentd-agent@.service");
  const movedAside = join(dir, "moved-aside");
  const home = tempDir("agentd-adopt-");
  const cwd = tempDir("agentd-adopt-cwd-");
  const originalState = tempDir("agentd-adopt-state-");
  /** The agent program the original ran: one executable, as AGENTD_AGENT_COMMAND names it. */
  const agentProgram = join(tempDir("agentd-adopt-bin-"), "agent");
  const cli = (...args: string[]) =>
    runCli(["import-legacy", ...args], { env: { ...systemd.env, AGENTD_URL: daemon.url } });
  let daemon: TestDaemon;
  let originalPid: number;

  async function unit(name: string, property: string): Promise<string> {
    const shown = await systemd.systemctl(
      "show",
      "-p",
      property,
      "--value",
      `agentd-agent@${name}.service`,
    );
    return shown.stdout.trim();
  }

  const original = (fields: Record<string, string>) => ({
    AGENTD_PROVIDER: "anthropic",
    AGENTD_MODEL: "claude-x",
    AGENTD_CWD: cwd,
    AGENTD_THINKING: "high",
    AGENTD_EXTRA_ARGS: "--max-iter 40",
    AGENTD_AGENT_COMMAND: agentProgram,
    AGENTD_STATE_DIR: originalState,
    ...fields,
  });

  beforeAll(async () => {
    writeFileSync(agentProgram, `#!/bin/sh\nexec "${process.execPath}" "${FAKE_AGENT}" "$@"\n`);
    chmodSync(agentProgram, 0o755);
    writeOriginalRuntime(dir, unitPath);
    writeOriginalEnvFile(dir, "helper", original({ GH_TOKEN: "ghp_x" }));
    writeOriginalEnvFile(dir, "resting", original({ AGENTD_THINKING: "" }));
    writeOriginalEnvFile(dir, "broken", { AGENTD_MODEL: "m", AGENTD_CWD: cwd });
    writeOriginalEnvFile(dir, "lost", original({ AGENTD_AGENT_COMMAND: "/no/such/agent" }));
    expect((await systemd.systemctl("daemon-reload")).code).toBe(0);
    const started = await systemd.systemctl("start", "agentd-agent@helper.service");
    expect(started.stderr).toBe("");
    originalPid = Number(await unit("helper", "MainPID"));
    expect(originalPid).toBeGreaterThan(0);

    // Step 3 of docs/MIGRATING.md: the database first; its persistent agents wait for adoption.
    const from = join(tempDir(), "original.db");
    const db = createOriginalDatabase(from);
    insertRow(db, "agents", { run_id: "helper", status: "idle", cwd, workspace: cwd });
    insertRow(db, "agents", { run_id: "old-run", status: "completed", cwd, workspace: cwd });
    db.close();
    const imported = await runCli(["import-legacy", "--from", from, "--db", daemonPaths(home).db], {
      env: systemd.env,
    });
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain("imported 1 agents");
    expect(imported.stdout).toContain(
      `skipped helper: a persistent agent of the original (${join(dir, "helper.env")})`,
    );
    daemon = await startDaemon({ home, env: systemd.env });
  });

  test("a dry run says what would be adopted and changes nothing", async () => {
    const dry = await cli("--persistent", "--dry-run", "--json");
    expect(dry.code).toBe(0);
    const report = JSON.parse(dry.stdout);
    expect(report.adopted).toEqual([
      { name: "helper", started: true, status: null, moved: [] },
      { name: "lost", started: false, status: null, moved: [] },
      { name: "resting", started: false, status: null, moved: [] },
    ]);
    expect(report.not_adopted).toEqual([
      {
        name: "broken",
        env_file: join(dir, "broken.env"),
        reason: "its env file sets no AGENTD_PROVIDER",
      },
    ]);
    expect(Number(await unit("helper", "MainPID"))).toBe(originalPid);
    expect(existsSync(join(dir, "helper.env"))).toBe(true);
    expect(existsSync(movedAside)).toBe(false);
  });

  test("carries them on as agentd persistent agents under agentd's unit, moving the original's files aside", async () => {
    const adopted = await cli("--persistent", "--url", daemon.url);
    expect(adopted.stdout).toContain("adopted helper: running");
    expect(adopted.stdout).toContain("adopted resting: not started (it was not running)");
    expect(adopted.stdout).toContain("not adopted broken");
    expect(adopted.stdout).toContain(
      `not adopted lost (${join(dir, "lost.env")}): agentd did not take it: agent command "/no/such/agent" does not exist.`,
    );
    expect(adopted.code).toBe(1); // some were left behind: scripts notice
    expect((await daemon.api("/agents/lost")).status).toBe(404);
    expect(existsSync(join(dir, "lost.env"))).toBe(true);

    const helper = await daemon.api<AgentView>("/agents/helper");
    expect(helper.body).toMatchObject({
      id: "helper",
      mode: "persistent",
      status: "idle",
      turn_envelope: false,
      command: [agentProgram],
      provider: "anthropic",
      model: "claude-x",
      cwd,
      thinking: "high",
      extra_args: ["--max-iter", "40"],
      env: { GH_TOKEN: "ghp_x" },
      workspace: { kind: "external", path: cwd },
    });
    // The original's process is gone; agentd's unit runs a new one from agentd's files.
    expect(
      await waitFor("the original's process to end", () => !existsSync(`/proc/${originalPid}`)),
    ).toBe(true);
    expect(helper.body.pid).toBe(Number(await unit("helper", "MainPID")));
    expect(helper.body.pid).not.toBe(originalPid);
    expect(readFileSync(await unit("helper", "FragmentPath"), "utf8")).toContain(
      "Generated by agentd",
    );
    const answer = await ask(daemon, "helper", "hello again");
    expect(answer).toMatchObject({ status: "completed", response: "echo: hello again" });

    expect((await daemon.api<AgentView>("/agents/resting")).body).toMatchObject({
      mode: "persistent",
      status: "pending",
      thinking: null,
    });
    expect(await unit("resting", "ActiveState")).toBe("inactive");

    for (const file of [
      "helper.env",
      "resting.env",
      "agentd-agent-exec",
      "agentd-agent@.service",
    ]) {
      expect(existsSync(join(movedAside, file))).toBe(true);
    }
    expect(existsSync(join(dir, "helper.env"))).toBe(false);
    expect(readFileSync(join(dir, "broken.env"), "utf8")).toContain("AGENTD_MODEL=m");
    const note = readFileSync(join(movedAside, "MOVED.txt"), "utf8");
    expect(note).toContain(`moved ${join(dir, "helper.env")} to ${join(movedAside, "helper.env")}`);
    expect(note).toContain(`moved ${unitPath} to ${join(movedAside, "agentd-agent@.service")}`);
    expect((await daemon.api<AgentView>("/agents/old-run")).body.status).toBe("completed");
  });

  test("adopting again adopts nothing twice, and tries again what agentd refused", async () => {
    const again = await cli("--persistent", "--json");
    const report = JSON.parse(again.stdout);
    expect(report.adopted).toEqual([]);
    expect(report.not_adopted.map((entry: { name: string }) => entry.name)).toEqual([
      "broken",
      "lost",
    ]);
    expect((await daemon.api<AgentView>("/agents/helper")).body.status).toBe("idle");
  });
});
