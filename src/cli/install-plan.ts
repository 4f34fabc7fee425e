import { dirname, isAbsolute, resolve } from "node:path";
import {
  type Config,
  type DaemonServiceFiles,
  daemonServiceFiles,
  loadConfig,
  SETTINGS,
  type ServiceScope,
  type SettingFlags,
  type SettingName,
} from "../config.ts";
import { isLogLevel } from "../log.ts";
import { isCompiled, selfCommand } from "../self.ts";
import { VERSION } from "../version.ts";
import { UsageError } from "./args.ts";
import { configFrom } from "./daemon.ts";
import { type DaemonUnit, renderDaemonUnit } from "./daemon-unit.ts";

/** What `agentd install` will write and run, decided before anything is touched. */
export interface InstallPlan {
  scope: ServiceScope;
  files: DaemonServiceFiles;
  unit: DaemonUnit;
  text: string;
  /** The daemon's settings as the service will have them. */
  daemon: Config;
  /** This process's own: which manager systemctl reaches, whether this user lingers. */
  installer: Config;
  /** System mode: the account the daemon runs as, when not root. */
  account: Account | null;
  /** Things the operator should know: printed, never fatal. */
  notes: string[];
}

export interface InstallOptions {
  scope: ServiceScope;
  settings: SettingFlags;
  logLevel?: string | undefined;
  serviceUser?: string | undefined;
  readWrite?: string[] | undefined;
}

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** The settings that are paths, by where the resolved config keeps them. */
const PATH_SETTINGS: Partial<Record<SettingName, (config: Config) => string | undefined>> = {
  db: (config) => config.dbPath,
  logRoot: (config) => config.logRoot,
  workspace: (config) => config.workspaceRoot,
  stateDir: (config) => config.stateDir,
  prices: (config) => config.pricesFile ?? undefined,
};

/** Decide the unit, and check everything that can be checked, without changing anything. */
export function planInstall(options: InstallOptions): InstallPlan {
  const { scope } = options;
  const system = scope === "system";
  if (!system && options.serviceUser !== undefined) {
    throw new UsageError("--service-user is for --system: a user manager runs everything as you");
  }
  if (!system && options.readWrite !== undefined) {
    throw new UsageError("--read-write is for --system: a user service may write what you may");
  }
  if (options.settings.token !== undefined) {
    throw new UsageError(
      "a token on the command line would be readable in the unit file and in ps; write it to an owner-only file (chmod 600) and give --token-file FILE",
    );
  }
  if (options.settings.metricsToken !== undefined) {
    throw new UsageError(
      "a metrics token on the command line would be readable in the unit file and in ps; put AGENTD_METRICS_TOKEN=… in the service's owner-only environment file instead",
    );
  }
  if (options.logLevel !== undefined && !isLogLevel(options.logLevel)) {
    throw new UsageError("--log-level must be debug, info, warn or error");
  }
  const notes: string[] = [];
  const fromEnvironment = settingsFromEnvironment(options.settings, notes);
  const settings = { ...fromEnvironment, ...options.settings };
  // As `agentd daemon` would resolve them here; a system service resolves as root does.
  const here = configFrom(() => loadConfig(settings));
  const daemon = system ? configFrom(() => loadConfig(settings, { uid: 0 })) : here;
  const tokenFile = settings.tokenFile === undefined ? null : resolve(settings.tokenFile);
  const program = selfCommand();
  const command = [...program, "daemon", ...daemonArgs(settings, daemon, options.logLevel)];
  const account = system && options.serviceUser ? lookupAccount(options.serviceUser) : null;
  const files = daemonServiceFiles(here, scope);
  const unit: DaemonUnit = {
    scope,
    version: VERSION,
    command,
    tokenFile,
    environmentFile: files.environment,
    stopGraceMs: daemon.stopGraceMs,
    user: account?.name ?? null,
    writablePaths: system ? writablePaths(daemon, options.readWrite ?? []) : [],
    neededPaths: [...program, daemon.agentCommand].filter(isAbsolute),
  };
  if (!isCompiled()) {
    notes.push(
      `the service runs agentd from source (${program.join(" ")}): moving this checkout breaks it; \`bun run build\` makes a binary that stands alone`,
    );
  }
  if (!daemon.agentCommand.includes("/")) {
    notes.push(
      `the agent command "${daemon.agentCommand}" is looked up in the service's PATH, which is not your shell's; give an absolute path: --agent-command "$(command -v ${daemon.agentCommand})"`,
    );
  }
  const text = renderDaemonUnit(unit);
  return { scope, files, unit, text, daemon, installer: here, account, notes };
}

/**
 * AGENTD_* settings in this environment, which the service would not see: carried over like
 * flags, except the token itself, which never goes into a unit.
 */
function settingsFromEnvironment(flags: SettingFlags, notes: string[]): SettingFlags {
  const carried: SettingFlags = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [
    SettingName,
    (typeof SETTINGS)[SettingName],
  ][]) {
    const value = process.env[setting.env];
    if (value === undefined || value === "" || flags[name] !== undefined) continue;
    if (name === "token") {
      if (flags.tokenFile === undefined && process.env.AGENTD_TOKEN_FILE === undefined) {
        notes.push(
          "AGENTD_TOKEN is set here, but a token never goes into a unit: the service requires none unless you give --token-file FILE (owner-only)",
        );
      }
      continue;
    }
    if (name === "metricsToken") {
      notes.push(
        "AGENTD_METRICS_TOKEN is set here, but a token never goes into a unit: put it in the service's environment file",
      );
      continue;
    }
    carried[name] = value;
    notes.push(`${setting.env} from this environment is carried over as --${setting.flag}`);
  }
  return carried;
}

/** `--flag value` for every setting given, paths absolute and always spelled out. */
function daemonArgs(
  settings: SettingFlags,
  daemon: Config,
  logLevel: string | undefined,
): string[] {
  const args: string[] = [];
  for (const [name, setting] of Object.entries(SETTINGS) as [
    SettingName,
    (typeof SETTINGS)[SettingName],
  ][]) {
    // The token file is the unit's to hand over (a credential in system mode).
    if (name === "token" || name === "tokenFile" || name === "metricsToken") continue;
    // Spelled out so the service finds the same state whatever its environment holds.
    const value = PATH_SETTINGS[name]?.(daemon) ?? settings[name];
    if (value !== undefined) args.push(`--${setting.flag}`, value);
  }
  if (logLevel !== undefined) args.push("--log-level", logLevel);
  return args;
}

function writablePaths(daemon: Config, extra: string[]): string[] {
  return [
    dirname(daemon.dbPath),
    daemon.logRoot,
    daemon.workspaceRoot,
    daemon.stateDir,
    ...extra.map((dir) => resolve(dir)),
  ];
}

function lookupAccount(name: string): Account {
  const id = (flag: string): number | null => {
    const proc = Bun.spawnSync(["id", flag, "--", name], { stdout: "pipe", stderr: "ignore" });
    const value = Number(proc.stdout.toString().trim());
    return proc.exitCode === 0 && Number.isInteger(value) ? value : null;
  };
  const uid = id("-u");
  const gid = id("-g");
  if (uid === null || gid === null) {
    throw new UsageError(
      `there is no account "${name}" on this host; create one first, e.g. useradd --system --home-dir /var/lib/agentd --shell /usr/sbin/nologin ${name}`,
    );
  }
  return { name, uid, gid };
}
