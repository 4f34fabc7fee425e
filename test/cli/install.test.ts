import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type AgentJson,
  ask,
  FAKE_AGENT_COMMAND,
  FAKE_TURN_COST,
  getAgent,
} from "../helpers/agents.ts";
import { mustBuild } from "../helpers/build.ts";
import { apiClient, daemonPaths } from "../helpers/daemon.ts";
import { describeWithSystemd, startUserManager } from "../helpers/systemd.ts";
import { tempDir } from "../helpers/tmp.ts";
import { waitFor } from "../helpers/wait.ts";
import { type CliResult, runCli } from "./run-cli.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

/**
 * `agentd install --user` against a real, private systemd user manager, with the compiled
 * binary (building it takes about a second; it is what gets copied to hosts, and only it can be
 * swapped for a newer build to test an upgrade).
 */
const manager = await startUserManager();

afterAll(async () => {
  await manager?.stop();
});

/** A port nobody listens on right now. */
function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

/** The environment without agentd settings of the machine running the tests. */
function cleanEnv(): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("AGENTD_")),
  );
}

describeWithSystemd(
  "agentd install --user under a real systemd user manager",
  manager,
  (systemd) => {
    const binDir = tempDir("agentd-install-bin-");
    const binary = join(binDir, "agentd");
    const home = tempDir("agentd-install-");
    const paths = daemonPaths(home);
    const lingerDir = tempDir("agentd-install-linger-");
    const unitFile = join(systemd.configHome, "systemd/user/agentd.service");
    const token = "install-test-token";
    const tokenFile = join(home, "token");
    // Reaches the daemon byte-exact through the unit's quoting; never run (agents name their own).
    const agentCommand = `/opt/agent's "dir"/a%i b\\c $HOME`;
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const daemon = apiClient(url, token);
    const daemonFlags = [
      "--port",
      String(port),
      "--db",
      paths.db,
      "--log-root",
      paths.logRoot,
      "--workspace",
      paths.workspace,
      "--state-dir",
      paths.stateDir,
      "--agent-command",
      agentCommand,
    ];

    /** `agentd ARGS` run by the compiled binary, talking to the private manager. */
    async function agentd(...args: string[]): Promise<CliResult> {
      const proc = Bun.spawn([binary, ...args], {
        cwd: home,
        env: { ...cleanEnv(), ...systemd.env, USER: "installer", AGENTD_LINGER_DIR: lingerDir },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stdout, stderr, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      return { stdout, stderr, code };
    }

    async function install(...extra: string[]): Promise<CliResult> {
      const result = await agentd(
        "install",
        "--user",
        ...daemonFlags,
        "--token-file",
        tokenFile,
        ...extra,
      );
      if (result.code !== 0) throw new Error(`install failed (${result.code}): ${result.stderr}`);
      return result;
    }

    async function unitProperty(property: string, unit = "agentd.service"): Promise<string> {
      return (await systemd.systemctl("show", "-p", property, "--value", unit)).stdout.trim();
    }

    async function mainPid(): Promise<number> {
      return Number(await unitProperty("MainPID"));
    }

    async function health(): Promise<{ ok: boolean; version: string }> {
      return (await daemon.api<{ ok: boolean; version: string }>("/health")).body;
    }

    async function printedVersion(): Promise<string> {
      return (await agentd("version")).stdout.replace(/^agentd /, "").trim();
    }

    beforeAll(async () => {
      await mustBuild(binary);
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    });

    test("a token on the command line, or a token file others can read, is refused before anything is written", async () => {
      const onCommandLine = await agentd("install", "--user", ...daemonFlags, "--token", token);
      expect(onCommandLine.code).toBe(2);
      expect(onCommandLine.stderr).toContain("give --token-file FILE");
      const openFile = join(home, "open-token");
      writeFileSync(openFile, token);
      chmodSync(openFile, 0o644);
      const open = await agentd("install", "--user", ...daemonFlags, "--token-file", openFile);
      expect(open.code).toBe(2);
      expect(open.stderr).toContain(`make it owner-only: chmod 600 ${openFile}`);
      expect(existsSync(unitFile)).toBe(false);
    });

    test("--dry-run prints the unit and changes nothing", async () => {
      const dry = await agentd("install", "--user", "--dry-run", ...daemonFlags);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain(`ExecStart="${binary}" "daemon" "--port" "${port}"`);
      expect(existsSync(unitFile)).toBe(false);
      expect(await unitProperty("LoadState")).toBe("not-found");
    });

    test("install writes a unit for this binary and starts it: the daemon runs under systemd and answers /health", async () => {
      const installed = await install();
      expect(installed.stdout).toContain(`wrote ${unitFile}`);
      const version = await printedVersion();
      expect(installed.stdout).toContain(
        `agentd.service is running agentd ${version} under the user manager, at ${url}`,
      );
      expect(installed.stdout).toContain(
        `warning: lingering is not enabled for installer (${join(lingerDir, "installer")} is missing)`,
      );
      expect(installed.stdout).toContain("loginctl enable-linger installer");

      expect(await unitProperty("ActiveState")).toBe("active");
      expect(await unitProperty("UnitFileState")).toBe("enabled");
      const pid = await mainPid();
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
      expect(argv).toEqual([binary, "daemon", ...daemonFlags, "--token-file", tokenFile]);
      expect(await health()).toMatchObject({ ok: true, version });
    });

    test("the daemon under systemd requires the token from its token file", async () => {
      const anonymous = await apiClient(url).api("/agents");
      expect(anonymous.status).toBe(401);
      expect((await daemon.api("/agents")).status).toBe(200);
    });

    test("systemd-analyze --user verify accepts the installed unit", async () => {
      const verify = Bun.spawn(["systemd-analyze", "--user", "verify", unitFile], {
        env: { ...process.env, ...systemd.env },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stderr, code] = await Promise.all([new Response(verify.stderr).text(), verify.exited]);
      expect(stderr).toBe("");
      expect(code).toBe(0);
    });

    test("survives `systemctl --user restart agentd`: a new process answers", async () => {
      const before = await mainPid();
      const restarted = await systemd.systemctl("restart", "agentd.service");
      expect(restarted.code).toBe(0);
      const after = await mainPid();
      expect(after).not.toBe(before);
      expect(after).toBeGreaterThan(0);
      const answer = await waitFor(
        "the restarted daemon to answer",
        async () => (await health().catch(() => undefined))?.ok,
      );
      expect(answer).toBe(true);
    });

    test("upgrade: a new binary in place and a service restart keep a persistent agent running and answering, its turns and cost continuing", async () => {
      const created = await daemon.api<AgentJson>("/agents", {
        method: "POST",
        body: JSON.stringify({
          name: "keeper",
          mode: "persistent",
          command: FAKE_AGENT_COMMAND,
          cwd: home,
        }),
      });
      expect(created.status).toBe(201);
      expect(await ask(daemon, "keeper", "before the upgrade")).toMatchObject({
        status: "completed",
      });
      const before = await getAgent(daemon, "keeper");
      expect(before).toMatchObject({ status: "idle", turns: 1, cost_micro_usd: FAKE_TURN_COST });

      // A newer build, moved over the old file the way an upgrade replaces a running binary.
      await mustBuild(`${binary}.new`, { AGENTD_COMMIT: "upgraded" });
      renameSync(`${binary}.new`, binary);
      const upgraded = await printedVersion();
      expect(upgraded).toEndWith("+upgraded");
      expect((await systemd.systemctl("restart", "agentd.service")).code).toBe(0);
      await waitFor("the new binary to answer", async () =>
        (await health().catch(() => undefined))?.version === upgraded ? true : undefined,
      );

      // The agent is systemd's, not the daemon's: same process, picked up again.
      expect(await getAgent(daemon, "keeper")).toMatchObject({
        status: "idle",
        pid: before.pid,
        turns: 1,
        cost_micro_usd: FAKE_TURN_COST,
      });
      expect(await ask(daemon, "keeper", "after the upgrade")).toMatchObject({
        status: "completed",
        response: "echo: after the upgrade",
      });
      expect(await getAgent(daemon, "keeper")).toMatchObject({
        turns: 2,
        cost_micro_usd: 2 * FAKE_TURN_COST,
      });
      expect((await daemon.api<unknown[]>("/agents/keeper/messages")).body).toHaveLength(4);
    });

    test("install again: new flags rewrite the unit and restart the daemon, the same ones change nothing; lingering is reported", async () => {
      writeFileSync(join(lingerDir, "installer"), "");
      const before = await mainPid();
      const changed = await install("--event-retention", "500");
      expect(changed.stdout).toContain(`rewrote ${unitFile} and restarted the service`);
      expect(changed.stdout).toContain(
        "lingering is enabled for installer: the service keeps running when installer logs out",
      );
      const restarted = await mainPid();
      expect(restarted).not.toBe(before);
      expect(readFileSync(`/proc/${restarted}/cmdline`, "utf8")).toContain(
        "--event-retention\u0000500\u0000",
      );

      const same = await install("--event-retention", "500");
      expect(same.stdout).toContain(`${unitFile} is unchanged`);
      expect(await mainPid()).toBe(restarted);
    });

    test("uninstall stops, disables and removes the service, and leaves the state and persistent agents alone", async () => {
      const removed = await agentd("uninstall", "--user");
      expect(removed.code).toBe(0);
      expect(removed.stdout).toContain(`stopped and removed ${unitFile}`);
      expect(existsSync(unitFile)).toBe(false);
      expect(await unitProperty("LoadState")).toBe("not-found");
      expect(await health().catch(() => "unreachable")).toBe("unreachable");
      expect(existsSync(paths.db)).toBe(true);
      expect(await unitProperty("ActiveState", "agentd-agent@keeper.service")).toBe("active");

      const again = await agentd("uninstall", "--user");
      expect(again.code).toBe(0);
      expect(again.stdout).toContain("agentd is not installed as a user service");

      // Installed anew, the daemon finds everything where it was.
      await install();
      expect(await getAgent(daemon, "keeper")).toMatchObject({ status: "idle", turns: 2 });
      expect((await agentd("uninstall", "--user")).code).toBe(0);
    });

    test("a daemon that cannot start makes install fail, saying where to look", async () => {
      // Something else already answers on the port: the daemon cannot bind it and exits.
      const squatter = Bun.serve({
        hostname: "127.0.0.1",
        port,
        fetch: () => new Response("not agentd", { status: 503 }),
      });
      try {
        const failed = await agentd("install", "--user", ...daemonFlags);
        expect(failed.code).toBe(1);
        expect(failed.stderr).toContain("agentd.service did not come up: the daemon exited");
        expect(failed.stderr).toContain("journalctl --user -u agentd");
      } finally {
        await squatter.stop(true);
      }
      expect((await agentd("uninstall", "--user")).code).toBe(0);
    });
  },
);

describe("agentd install --dry-run", () => {
  const dir = tempDir("agentd-dry-run-");
  const dryRun = (args: string[], env: Record<string, string> = {}) =>
    runCli(["install", "--dry-run", ...args], { cwd: dir, env: { ...cleanEnv(), ...env } });
  const execStart = (unit: string) => /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? "";

  test("spells out every path absolute, and carries AGENTD_* settings over as flags, saying so", async () => {
    const dry = await dryRun(["--user", "--db", "state/agentd.db"], {
      AGENTD_EVENT_RETENTION: "777",
      AGENTD_LOG_ROOT: "logs",
    });
    expect(dry.code).toBe(0);
    const line = execStart(dry.stdout);
    expect(line).toContain(`"--db" "${join(dir, "state/agentd.db")}"`);
    expect(line).toContain(`"--log-root" "${join(dir, "logs")}"`);
    expect(line).toMatch(/"--workspace" "\/[^"]+" "--state-dir" "\/[^"]+"/);
    expect(line).toContain('"--event-retention" "777"');
    expect(dry.stderr).toContain(
      "note: AGENTD_EVENT_RETENTION from this environment is carried over as --event-retention",
    );
  });

  test("never writes a token from the environment, and says the service will require none", async () => {
    const dry = await dryRun(["--user"], { AGENTD_TOKEN: "s3cret" });
    expect(dry.code).toBe(0);
    expect(dry.stdout).not.toContain("s3cret");
    expect(dry.stderr).toContain("the service requires none unless you give --token-file FILE");
  });

  test("never writes the metrics token, refusing it as a flag; a price file is spelled out absolute", async () => {
    const flag = await dryRun(["--user", "--metrics-token", "scrape"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("AGENTD_METRICS_TOKEN");
    const fromEnv = await dryRun(["--user", "--prices", "prices.json"], {
      AGENTD_METRICS_TOKEN: "scrape-secret",
      AGENTD_DEFAULT_BUDGET_USD: "5",
    });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).not.toContain("scrape-secret");
    expect(fromEnv.stderr).toContain("AGENTD_METRICS_TOKEN is set here");
    const line = execStart(fromEnv.stdout);
    expect(line).toContain(`"--prices" "${join(dir, "prices.json")}"`);
    expect(line).toContain('"--default-budget-usd" "5"');
  });

  test("refuses flags that do not fit the mode, and an account that does not exist", async () => {
    const both = await dryRun(["--user", "--system"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("give --user or --system, not both");
    const userWithAccount = await dryRun(["--user", "--service-user", "root"]);
    expect(userWithAccount.code).toBe(2);
    expect(userWithAccount.stderr).toContain("--service-user is for --system");
    const nobodyHere = await dryRun(["--system", "--service-user", "no-such-account-x"]);
    expect(nobodyHere.code).toBe(2);
    expect(nobodyHere.stderr).toContain('there is no account "no-such-account-x" on this host');
  });
});

describe("agentd install --system --dry-run", () => {
  const analyze = Bun.which("systemd-analyze");
  if (!analyze) {
    console.warn(
      "skipping systemd-analyze verify of the system unit: systemd-analyze is not on PATH",
    );
  }
  const check = analyze ? test : test.skip;

  check("systemd-analyze verify accepts the hardened system unit", async () => {
    const dir = tempDir("agentd-system-unit-");
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, "t", { mode: 0o600 });
    const dry = await runCli(
      [
        "install",
        "--system",
        "--dry-run",
        "--service-user",
        "root",
        "--token-file",
        tokenFile,
        "--read-write",
        join(dir, "repos"),
        "--db",
        join(dir, "state/agentd.db"),
      ],
      { cwd: dir },
    );
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("ProtectSystem=strict");
    const unit = join(dir, "agentd.service");
    writeFileSync(unit, dry.stdout);
    const verify = Bun.spawn([analyze as string, "verify", unit], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stderr, code] = await Promise.all([new Response(verify.stderr).text(), verify.exited]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });
});
