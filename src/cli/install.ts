import {
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname } from "node:path";
import {
  type Config,
  daemonServiceFiles,
  loadConfig,
  type ServiceScope,
  settingFlagsFrom,
} from "../config.ts";
import { errorMessage } from "../errors.ts";
import { lingerWarning } from "../systemd/linger.ts";
import { Systemctl, SystemctlError } from "../systemd/systemctl.ts";
import { VERSION } from "../version.ts";
import { type FlagSpecs, UsageError } from "./args.ts";
import { DaemonClient } from "./client.ts";
import { CommandFailure, defineCommand } from "./command.ts";
import { configFrom, DAEMON_FLAGS } from "./daemon.ts";
import { type InstallPlan, planInstall } from "./install-plan.ts";

const UNIT = "agentd.service";
/** How long `install` waits for the started service to answer before calling it a failure. */
const START_TIMEOUT_MS = 30_000;
/** A port that accepts but never answers must not hold `install` past its deadline. */
const HEALTH_TIMEOUT_MS = 2_000;

const SCOPE_FLAGS = {
  user: {
    kind: "boolean",
    help: "a service of your systemd user manager (the default, except for root)",
  },
  system: { kind: "boolean", help: "a hardened system service (the default for root)" },
} as const satisfies FlagSpecs;

export const installCommand = defineCommand({
  name: "install",
  summary: "run the daemon as a systemd service: write its unit, enable and start it",
  synopsis: "install [--user|--system] [--dry-run] [--token-file FILE] [daemon flags]",
  description: [
    "Writes agentd.service for this very program (by absolute path) with the daemon flags given,",
    "then runs daemon-reload and enable --now, and waits until the daemon answers /health.",
    "Paths (--db, --log-root, --workspace, --state-dir) are written out absolute; other settings",
    "given as flags or AGENTD_* variables are carried over as flags. The token is never written",
    "into the unit: give --token-file FILE (owner-only). Other secrets go, as KEY=value lines,",
    "in the owner-only environment file the unit names.",
    "--user: ~/.config/systemd/user/agentd.service (run `loginctl enable-linger` so it keeps",
    "running when you log out). --system: /etc/systemd/system/agentd.service, with the whole",
    "file system read-only but the daemon's directories and any --read-write DIR.",
    "Run it again to change the flags; `agentd uninstall` removes the service, keeping the state.",
  ].join("\n"),
  flags: {
    ...SCOPE_FLAGS,
    "dry-run": { kind: "boolean", help: "print the unit and change nothing" },
    "service-user": {
      kind: "string",
      value: "NAME",
      help: "with --system: the account the daemon runs as (root if unset)",
    },
    "read-write": {
      kind: "list",
      value: "DIR",
      help: "with --system: one more directory the daemon's agents may write",
    },
    ...DAEMON_FLAGS,
  },
  async run({ flags, positionals }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    const plan = planInstall({
      scope: scopeFrom(flags),
      settings: configFrom(() => settingFlagsFrom(flags)).flags,
      logLevel: flags["log-level"],
      serviceUser: flags["service-user"],
      readWrite: flags["read-write"],
    });
    for (const note of plan.notes) process.stderr.write(`note: ${note}\n`);
    if (flags["dry-run"]) {
      process.stdout.write(plan.text);
      return 0;
    }
    await withSystemctlFailures(() => applyInstall(plan));
    return 0;
  },
});

export const uninstallCommand = defineCommand({
  name: "uninstall",
  summary: "stop, disable and remove the daemon's systemd service; its state stays",
  synopsis: "uninstall [--user|--system]",
  description:
    "The database, logs, workspaces and the environment file stay where they are, and persistent\nagents (agentd-agent@*.service) keep running: `agentd install` picks them up again.",
  flags: SCOPE_FLAGS,
  async run({ flags, positionals }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    const scope = scopeFrom(flags);
    const config = configFrom(() => loadConfig({}));
    const { unit } = daemonServiceFiles(config, scope);
    if (!existsSync(unit)) {
      process.stdout.write(`agentd is not installed as a ${scope} service (no ${unit})\n`);
      return 0;
    }
    await withSystemctlFailures(async () => {
      const systemctl = new Systemctl(config.systemctlEnv, scope);
      await systemctl.disableNow(UNIT);
      try {
        rmSync(unit);
      } catch (error) {
        throw new CommandFailure(`cannot remove ${unit}: ${errorMessage(error)}`);
      }
      await systemctl.daemonReload();
      const state = (await systemctl.show([UNIT])).get(UNIT);
      if (state?.activeState === "failed") await systemctl.resetFailed(UNIT);
    });
    process.stdout.write(
      `stopped and removed ${unit}\nkept: the database, logs, workspaces and persistent agents (agentd-agent@*.service keep running)\n`,
    );
    return 0;
  },
});

/** `--user` or `--system`; without either, system for root and user for everyone else. */
function scopeFrom(flags: { user?: boolean; system?: boolean }): ServiceScope {
  if (flags.user && flags.system) throw new UsageError("give --user or --system, not both");
  if (flags.user) return "user";
  if (flags.system) return "system";
  return process.getuid?.() === 0 ? "system" : "user";
}

async function applyInstall(plan: InstallPlan): Promise<void> {
  if (plan.scope === "system") {
    if (!plan.installer.isRoot) {
      throw new CommandFailure(
        "a system service is installed by root: run this with sudo, or use --user",
      );
    }
    checkDirectoryOwners(plan);
  }
  const previous = existsSync(plan.files.unit) ? readFileSync(plan.files.unit, "utf8") : null;
  const changed = previous !== plan.text;
  if (changed) writeUnit(plan.files.unit, plan.text);
  const systemctl = new Systemctl(plan.installer.systemctlEnv, plan.scope);
  try {
    await systemctl.daemonReload();
    if (plan.scope === "system") makeDirectories(plan);
    await systemctl.enableNow(UNIT);
    // enable --now leaves a running daemon alone; new flags take effect only on a restart.
    if (previous !== null && changed) await systemctl.restart(UNIT);
  } catch (error) {
    // The manager could not take the unit: leave the file as it was.
    if (changed) restoreUnit(plan.files.unit, previous);
    throw error;
  }
  const version = await waitUntilRunning(plan, systemctl);
  const out = [
    previous === null
      ? `wrote ${plan.files.unit}`
      : changed
        ? `rewrote ${plan.files.unit} and restarted the service`
        : `${plan.files.unit} is unchanged`,
    `agentd.service is running ${version === null ? "" : `agentd ${version} `}under the ${plan.scope} manager${plan.daemon.port === 0 ? "" : `, at ${daemonUrl(plan.daemon)}`}`,
    `secrets other than the token (AGENTD_WEBHOOK_SECRET, AGENTD_TITLE_KEY) go in ${plan.files.environment}, owner-only, as KEY=value lines`,
  ];
  if (plan.scope === "user") out.push(lingerReport(plan.installer));
  if (version !== null && version !== VERSION) {
    out.push(
      `warning: the daemon answering is agentd ${version}, not this agentd ${VERSION}: restart the service to run this binary (systemctl --${plan.scope} restart agentd), unless another daemon holds the port`,
    );
  }
  process.stdout.write(`${out.join("\n")}\n`);
}

function writeUnit(path: string, text: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    writeFileSync(path, text, { mode: 0o644 });
  } catch (error) {
    throw new CommandFailure(`cannot write ${path}: ${errorMessage(error)}`);
  }
}

function restoreUnit(path: string, previous: string | null): void {
  if (previous === null) rmSync(path, { force: true });
  else writeFileSync(path, previous, { mode: 0o644 });
}

/** The daemon's own directories, as opposed to shared ones given with --read-write. */
function ownDirectories(plan: InstallPlan): Set<string> {
  const { daemon } = plan;
  return new Set([dirname(daemon.dbPath), daemon.logRoot, daemon.workspaceRoot, daemon.stateDir]);
}

/**
 * The daemon's directories that exist already must belong to its account. Ones belonging to
 * someone else are reported, not taken over: they may hold someone's files.
 */
function checkDirectoryOwners(plan: InstallPlan): void {
  const uid = plan.account?.uid ?? 0;
  for (const dir of ownDirectories(plan)) {
    const owner = existsSync(dir) ? statSync(dir).uid : uid;
    if (owner !== uid) {
      const who = plan.account?.name ?? "root";
      throw new CommandFailure(
        `${dir} belongs to uid ${owner}, but the service runs as ${who}; hand it over first: chown -R ${who}: ${dir}`,
      );
    }
  }
}

/** A system service's writable directories must exist before it starts (or systemd refuses). */
function makeDirectories(plan: InstallPlan): void {
  // Parents first, so that each is made (and handed over) before its children.
  const missing = plan.unit.writablePaths
    .filter((dir) => !existsSync(dir))
    .sort((a, b) => a.length - b.length);
  for (const dir of missing) {
    if (existsSync(dir)) continue; // listed twice
    // Missing parents open enough for the service's user to pass through, as /var/lib is.
    mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
    mkdirSync(dir, { mode: 0o700 });
    if (plan.account) chownSync(dir, plan.account.uid, plan.account.gid);
  }
}

/**
 * Until the unit is active and the daemon answers /health: its version (null on port 0). A
 * daemon that exits is restarted by systemd (Restart=on-failure); one such restart is enough
 * to tell it will not come up.
 */
async function waitUntilRunning(plan: InstallPlan, systemctl: Systemctl): Promise<string | null> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  const client = new DaemonClient(daemonUrl(plan.daemon), null);
  const unitState = async () => (await systemctl.show([UNIT])).get(UNIT);
  const restartsBefore = (await unitState())?.nRestarts ?? 0;
  let state = "unknown";
  for (let delay = 50; Date.now() < deadline; delay = Math.min(delay * 2, 500)) {
    const unit = await unitState();
    state = unit?.activeState ?? "unknown";
    if (unit && (unit.nRestarts > restartsBefore || state === "failed")) {
      throw startFailure(plan, "the daemon exited");
    }
    if (state === "active") {
      if (plan.daemon.port === 0) return null;
      try {
        const signal = AbortSignal.timeout(HEALTH_TIMEOUT_MS);
        return (await client.json<{ version: string }>("GET", "/health", { signal })).version;
      } catch {
        // Not listening yet.
      }
    }
    await Bun.sleep(delay);
  }
  throw startFailure(plan, `it is still ${state} after ${START_TIMEOUT_MS / 1000} s`);
}

function startFailure(plan: InstallPlan, what: string): CommandFailure {
  const user = plan.scope === "user" ? "--user " : "";
  return new CommandFailure(
    `agentd.service did not come up: ${what}; see \`systemctl ${user}status agentd\` and \`journalctl ${user}-u agentd\`, and remove it with \`agentd uninstall --${plan.scope}\``,
  );
}

/** Where to reach the daemon from this host: a wildcard address is reached on loopback. */
function daemonUrl(daemon: Config): string {
  const host = daemon.host === "0.0.0.0" ? "127.0.0.1" : daemon.host === "::" ? "::1" : daemon.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${daemon.port}`;
}

function lingerReport(config: Config): string {
  const warning = lingerWarning(config.lingerFile);
  if (warning !== null) return `warning: ${warning}`;
  const user = basename(config.lingerFile ?? "");
  return `lingering is enabled for ${user}: the service keeps running when ${user} logs out`;
}

/** systemctl's own message, as a command failure. */
async function withSystemctlFailures(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (error instanceof SystemctlError) throw new CommandFailure(errorMessage(error));
    throw error;
  }
}
