import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnFake } from "./helpers/agents.ts";
import { buildBinary } from "./helpers/build.ts";
import { startDaemon, stopAllDaemons } from "./helpers/daemon.ts";
import { tempDir } from "./helpers/tmp.ts";
import { processGone, waitFor } from "./helpers/wait.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

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

  test("builds, says where, how big and which version, and a copy in an empty directory prints that version", async () => {
    const outfile = join(buildDir, "agentd");
    const built = await buildBinary(outfile, { SOURCE_DATE_EPOCH: "1767225600" });
    expect(built.stderr).toBe("");
    expect(built.code).toBe(0);
    const said = /^built (\S+) \((\d+\.\d) MiB\): agentd (\S+)\n$/.exec(built.stdout);
    expect(said?.[1]).toBe(outfile);
    expect(Number(said?.[2])).toBe(Number((statSync(outfile).size / 1024 / 1024).toFixed(1)));
    copyFileSync(outfile, binary);
    const version = await run([binary, "version"], emptyDir);
    expect(version.code).toBe(0);
    expect(version.stdout).toBe(`agentd ${said?.[3]}\n`);
    expect(version.stdout).toMatch(/^agentd \d+\.\d+\.\d+\+[0-9a-f]+(-dirty)?\n$/);
  }, 120_000);

  test("version --json gives version, commit, Bun version and build time", async () => {
    const plain = await run([binary, "version"], emptyDir);
    const json = await run([binary, "version", "--json"], emptyDir);
    expect(json.code).toBe(0);
    const info = JSON.parse(json.stdout);
    expect(info).toEqual({
      version: plain.stdout.replace(/^agentd /, "").trim(),
      commit: expect.stringMatching(/^[0-9a-f]{7,}(-dirty)?$/),
      bun: Bun.version,
      built_at: "2026-01-01T00:00:00.000Z",
    });
    expect(info.version).toEndWith(`+${info.commit}`);
  });

  test("renders the embedded templates", async () => {
    const unit = await run([binary, "template", "agentd.service"], emptyDir);
    expect(unit.code).toBe(0);
    expect(unit.stdout).toContain(`ExecStart="${binary}" "daemon"`);
    const agentUnit = await run([binary, "template", "agentd-agent@.service"], emptyDir);
    expect(agentUnit.stdout).toContain("Restart=on-failure");
    expect(agentUnit.stdout).not.toContain("{{");
    const script = await run([binary, "template", "agent-exec.sh"], emptyDir);
    expect(script.stdout).toStartWith("#!/usr/bin/env bash");
  });

  test("runs the daemon on port 0 and answers /health with the version `agentd version` prints", async () => {
    const daemon = await startDaemon({ command: [binary] });
    const health = await daemon.api<{ ok: boolean; version: string }>("/health");
    expect(health.body.ok).toBe(true);
    const version = await run([binary, "version"], emptyDir);
    expect(`agentd ${health.body.version}\n`).toBe(version.stdout);
    expect(await daemon.stop()).toBe(0);
  });

  test("serves the dashboard it carries: the page and every file the page names", async () => {
    const daemon = await startDaemon({ command: [binary] });
    const page = await fetch(`${daemon.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    const files = [...html.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1] as string);
    expect(files.filter((path) => /\.(js|css)$/.test(path))).toHaveLength(2);
    let script = "";
    for (const path of files) {
      const file = await fetch(`${daemon.url}${path}`);
      expect(file.status).toBe(200);
      if (path.endsWith(".js")) {
        expect(file.headers.get("content-type")).toStartWith("text/javascript");
        script = await file.text();
      }
    }
    // The dashboard's own code, bundled with Preact at build time.
    expect(script).toContain("This daemon needs its token");
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
