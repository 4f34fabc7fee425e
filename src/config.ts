import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { Backoff } from "./agents/restart-policy.ts";
import { isLoopbackHost, parseHost } from "./loopback.ts";

/**
 * Every path, port and default agentd uses, resolved once: flags > environment > defaults.
 * Nothing else in the program reads process.env for settings.
 */
export interface Config {
  host: string;
  port: number;
  dbPath: string;
  /** Held (flock) by the one daemon that owns the database; beside the database. */
  lockPath: string;
  logRoot: string;
  workspaceRoot: string;
  stateDir: string;
  /**
   * Files agent drivers ship for their CLIs to load (pi's permission gate): inside stateDir,
   * which agentd can write wherever it runs.
   */
  driverFilesDir: string;
  agentCommand: string;
  /** How prompts reach agents whose creation does not say (`turn_envelope`). */
  promptFraming: PromptFraming;
  token: string | null;
  /** A second token that reads /metrics only, for a scraper that should not drive agents. */
  metricsToken: string | null;
  /** The budget a new agent gets when its creation names none; null: no limit. */
  defaultBudgetUsd: number | null;
  /** A JSON price table loaded at start (replacing the stored one); null: keep the stored one. */
  pricesFile: string | null;
  /**
   * Host names the API answers to besides loopback ones (lowercase, no port). On a loopback
   * address the Host header is checked against them (DNS rebinding); elsewhere only when given.
   */
  allowedHosts: string[];
  /** Web origins (scheme://host[:port]) whose pages may call the API (CORS); none by default. */
  allowedOrigins: string[];
  /** Largest prompt accepted, in bytes of UTF-8 (a create's `prompt`, a send's `message`). */
  maxPromptBytes: number;
  /** Seconds an HTTP connection may sit idle between requests before it is closed. */
  httpIdleTimeoutS: number;
  /** Grace period between SIGTERM and SIGKILL when stopping an agent. */
  stopGraceMs: number;
  /** Most events kept per agent; older ones are pruned. */
  eventRetention: number;
  /** An agent log is rotated before it grows past this many bytes… */
  logMaxBytes: number;
  /** …keeping this many rotated files (agent.log.1 is the newest). */
  logKeep: number;
  /** How automatic restarts of runs (their `restart` policy) are spaced, and when they stop. */
  restartBackoff: Backoff;
  /** Live events buffered for one event-stream subscriber before it is cut off. */
  sseBuffer: number;
  webhookSecret: string | null;
  /** First retry delay of a failed webhook delivery; each further one waits 3x longer. */
  webhookRetryBaseMs: number;
  /** How long one webhook delivery attempt may take before it counts as failed. */
  webhookTimeoutMs: number;
  title: TitleEndpoint | null;
  /** Where systemd user units and the exec script are written for persistent agents. */
  systemdUserDir: string;
  persistentConfigDir: string;
  /** Where the original daemon kept its persistent agents' env files and exec script. */
  legacyAgentsDir: string;
  /** Environment handed to systemctl, so it talks to the same user manager as the daemon. */
  systemctlEnv: Record<string, string>;
  /** The file systemd-logind keeps while this user lingers; null when the user is unknown. */
  lingerFile: string | null;
  /** The environment run-mode agents start from: the daemon's own, less its secrets. */
  agentEnv: Record<string, string>;
  isRoot: boolean;
}

/**
 * `envelope`: a JSON envelope carrying the turn id (agentd's own); `raw`: the prompt's bytes and a
 * NUL, as the original daemon sent them, for agents that understand nothing else.
 */
export const PROMPT_FRAMINGS = ["envelope", "raw"] as const;
export type PromptFraming = (typeof PROMPT_FRAMINGS)[number];

export interface TitleEndpoint {
  url: string;
  model: string;
  key: string | null;
}

/** The settings an operator can pass as `--flag value`, with the environment variable for each. */
export const SETTINGS = {
  host: { flag: "host", env: "AGENTD_HOST", help: "address to listen on" },
  port: { flag: "port", env: "AGENTD_PORT", help: "port to listen on; 0 picks a free port" },
  db: { flag: "db", env: "AGENTD_DB", help: "SQLite database file" },
  logRoot: { flag: "log-root", env: "AGENTD_LOG_ROOT", help: "per-agent log directories" },
  workspace: { flag: "workspace", env: "AGENTD_WORKSPACE", help: "managed workspaces" },
  stateDir: {
    flag: "state-dir",
    env: "AGENTD_STATE_DIR",
    help: "persistent agents' FIFOs and event files",
  },
  agentCommand: {
    flag: "agent-command",
    env: "AGENTD_AGENT_COMMAND",
    help: "agent executable when a request names none",
  },
  promptFraming: {
    flag: "prompt-framing",
    env: "AGENTD_PROMPT_FRAMING",
    help: "envelope or raw: how prompts reach agents that do not choose (turn_envelope)",
  },
  token: { flag: "token", env: "AGENTD_TOKEN", help: "bearer token required by the API" },
  tokenFile: {
    flag: "token-file",
    env: "AGENTD_TOKEN_FILE",
    help: "file holding the bearer token (owner-only), read at start",
  },
  metricsToken: {
    flag: "metrics-token",
    env: "AGENTD_METRICS_TOKEN",
    help: "bearer token that reads GET /metrics only (the main token works too)",
  },
  defaultBudgetUsd: {
    flag: "default-budget-usd",
    env: "AGENTD_DEFAULT_BUDGET_USD",
    help: "budget in US dollars given to agents created without one (none)",
  },
  prices: {
    flag: "prices",
    env: "AGENTD_PRICES",
    help: "JSON file of per-model prices, loaded at start (see README: Prices)",
  },
  allowedHosts: {
    flag: "allowed-hosts",
    env: "AGENTD_ALLOWED_HOSTS",
    help: "comma-separated Host names the API answers to besides loopback ones",
  },
  allowedOrigins: {
    flag: "allowed-origins",
    env: "AGENTD_ALLOWED_ORIGINS",
    help: "comma-separated web origins (https://host:port) allowed to call the API (CORS)",
  },
  maxPromptBytes: {
    flag: "max-prompt-bytes",
    env: "AGENTD_MAX_PROMPT_BYTES",
    help: "largest prompt accepted, in bytes",
  },
  stopGrace: {
    flag: "stop-grace",
    env: "AGENTD_STOP_GRACE_MS",
    help: "milliseconds between SIGTERM and SIGKILL",
  },
  eventRetention: {
    flag: "event-retention",
    env: "AGENTD_EVENT_RETENTION",
    help: "events kept per agent",
  },
  logMaxBytes: {
    flag: "log-max-bytes",
    env: "AGENTD_LOG_MAX_BYTES",
    help: "size at which an agent's log is rotated",
  },
  logKeep: {
    flag: "log-keep",
    env: "AGENTD_LOG_KEEP",
    help: "rotated log files kept per agent",
  },
} as const;

export type SettingName = keyof typeof SETTINGS;
export type SettingFlags = Partial<Record<SettingName, string>>;

/** Flags the original daemon took, still accepted under their old names with a warning. */
export const DEPRECATED_FLAGS: Record<string, SettingName> = { "pi-path": "agentCommand" };

/**
 * The settings given on a command line, from its values by flag name; a deprecated flag counts
 * as its setting, with a warning naming the new flag.
 */
export function settingFlagsFrom(values: Record<string, unknown>): {
  flags: SettingFlags;
  warnings: string[];
} {
  const flags: SettingFlags = {};
  const warnings: string[] = [];
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const value = values[SETTINGS[name].flag];
    if (typeof value === "string") flags[name] = value;
  }
  for (const [oldFlag, name] of Object.entries(DEPRECATED_FLAGS)) {
    const value = values[oldFlag];
    if (typeof value !== "string") continue;
    const { flag, env } = SETTINGS[name];
    if (flags[name] !== undefined) {
      throw new ConfigError(`--${oldFlag} is the old name of --${flag}: give only --${flag}`);
    }
    flags[name] = value;
    warnings.push(`--${oldFlag} is deprecated: use --${flag} (or ${env})`);
  }
  return { flags, warnings };
}

export const DEFAULT_PORT = 8400;
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_STOP_GRACE_MS = 5000;
export const DEFAULT_EVENT_RETENTION = 10_000;
export const DEFAULT_LOG_MAX_BYTES = 50 * 1024 * 1024;
export const DEFAULT_LOG_KEEP = 3;
export const DEFAULT_RESTART_DELAY_MS = 1000;
export const DEFAULT_RESTART_LIMIT = 5;
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
export const DEFAULT_AGENT_COMMAND = "agent";
export const DEFAULT_WEBHOOK_RETRY_MS = 1000;
export const DEFAULT_LINGER_DIR = "/var/lib/systemd/linger";
export const DEFAULT_SSE_BUFFER = 1000;
/** The largest request body read; larger ones are refused before they are read (413). */
export const MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_PROMPT_BYTES = 512 * 1024;
export const DEFAULT_HTTP_IDLE_TIMEOUT_S = 60;
/** Bun's limit for an idle timeout. */
const MAX_HTTP_IDLE_TIMEOUT_S = 255;
export const DEFAULT_PROMPT_FRAMING: PromptFraming = "envelope";
/** `agentd gc` and `POST /workspaces/gc` without an age remove workspaces unused for a week. */
export const DEFAULT_GC_OLDER_THAN_MS = 7 * 24 * 3_600_000;

export class ConfigError extends Error {}

export interface ConfigSources {
  flags: SettingFlags;
  env: Record<string, string | undefined>;
  uid: number;
  home: string;
  cwd: string;
  /** Login name, when known. */
  user?: string | undefined;
}

export function resolveConfig(sources: ConfigSources): Config {
  const { flags, env } = sources;
  const isRoot = sources.uid === 0;
  const pick = (name: SettingName): string | undefined => {
    const fromFlag = flags[name];
    if (fromFlag !== undefined) return fromFlag;
    const fromEnv = env[SETTINGS[name].env];
    return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
  };
  const path = (name: SettingName, fallback: string): string => {
    const value = pick(name);
    return value === undefined ? fallback : resolve(sources.cwd, value);
  };

  const dataHome = xdgDir(env.XDG_DATA_HOME, join(sources.home, ".local/share"));
  const stateHome = xdgDir(env.XDG_STATE_HOME, join(sources.home, ".local/state"));
  const configHome = xdgDir(env.XDG_CONFIG_HOME, join(sources.home, ".config"));
  const defaults = isRoot
    ? {
        db: "/var/lib/agentd/agentd.db",
        logRoot: "/var/log/agentd",
        workspace: "/var/lib/agentd/workspaces",
        stateDir: "/var/lib/agentd/agents",
      }
    : {
        db: join(dataHome, "agentd/agentd.db"),
        logRoot: join(stateHome, "agentd/logs"),
        workspace: join(dataHome, "agentd/workspaces"),
        stateDir: join(stateHome, "agentd/agents"),
      };

  const dbPath = path("db", defaults.db);
  const stateDir = path("stateDir", defaults.stateDir);
  return {
    host: pick("host") ?? DEFAULT_HOST,
    port: integerSetting("port", pick("port"), DEFAULT_PORT, 0, 65535),
    dbPath,
    lockPath: `${dbPath}.lock`,
    logRoot: path("logRoot", defaults.logRoot),
    workspaceRoot: path("workspace", defaults.workspace),
    stateDir,
    driverFilesDir: join(stateDir, "drivers"),
    agentCommand: pick("agentCommand") ?? DEFAULT_AGENT_COMMAND,
    promptFraming: promptFraming(pick("promptFraming")),
    token: token(flags, env, sources.cwd),
    metricsToken: pick("metricsToken") ?? null,
    defaultBudgetUsd: dollars("defaultBudgetUsd", pick("defaultBudgetUsd")),
    pricesFile: pick("prices") === undefined ? null : path("prices", ""),
    allowedHosts: hostList(pick("allowedHosts")),
    allowedOrigins: originList(pick("allowedOrigins")),
    maxPromptBytes: integerSetting(
      "maxPromptBytes",
      pick("maxPromptBytes"),
      DEFAULT_MAX_PROMPT_BYTES,
      1,
      MAX_BODY_BYTES,
    ),
    httpIdleTimeoutS: envInteger(
      env,
      "AGENTD_HTTP_IDLE_TIMEOUT_S",
      DEFAULT_HTTP_IDLE_TIMEOUT_S,
      1,
      MAX_HTTP_IDLE_TIMEOUT_S,
    ),
    stopGraceMs: integerSetting(
      "stopGrace",
      pick("stopGrace"),
      DEFAULT_STOP_GRACE_MS,
      0,
      3_600_000,
    ),
    eventRetention: integerSetting(
      "eventRetention",
      pick("eventRetention"),
      DEFAULT_EVENT_RETENTION,
      1,
      100_000_000,
    ),
    logMaxBytes: integerSetting(
      "logMaxBytes",
      pick("logMaxBytes"),
      DEFAULT_LOG_MAX_BYTES,
      4096,
      Number.MAX_SAFE_INTEGER,
    ),
    logKeep: integerSetting("logKeep", pick("logKeep"), DEFAULT_LOG_KEEP, 0, 1000),
    restartBackoff: {
      firstDelayMs: envInteger(
        env,
        "AGENTD_RESTART_DELAY_MS",
        DEFAULT_RESTART_DELAY_MS,
        1,
        3_600_000,
      ),
      maxDelayMs: 60_000,
      limit: envInteger(env, "AGENTD_RESTART_LIMIT", DEFAULT_RESTART_LIMIT, 1, 1000),
      stableAfterMs: 60_000,
    },
    sseBuffer: envInteger(env, "AGENTD_SSE_BUFFER", DEFAULT_SSE_BUFFER, 1, 1_000_000),
    webhookSecret: nonEmpty(env.AGENTD_WEBHOOK_SECRET),
    webhookRetryBaseMs: envInteger(
      env,
      "AGENTD_WEBHOOK_RETRY_MS",
      DEFAULT_WEBHOOK_RETRY_MS,
      1,
      3_600_000,
    ),
    webhookTimeoutMs: envInteger(
      env,
      "AGENTD_WEBHOOK_TIMEOUT_MS",
      DEFAULT_WEBHOOK_TIMEOUT_MS,
      1,
      3_600_000,
    ),
    title: titleEndpoint(env),
    systemdUserDir: join(configHome, "systemd/user"),
    persistentConfigDir: join(configHome, "agentd"),
    legacyAgentsDir: join(configHome, "agentd-agents"),
    systemctlEnv: systemctlEnvironment(env, sources.home),
    lingerFile: lingerFile(env, sources.user),
    agentEnv: withoutSecrets(env),
    isRoot,
  };
}

/**
 * Resolve from this process's own flags, environment and user; `as` resolves for someone else
 * (`agentd install --system` resolves as root would).
 */
export function loadConfig(flags: SettingFlags, as: Partial<ConfigSources> = {}): Config {
  const uid = process.getuid?.() ?? 1000;
  return resolveConfig({
    flags,
    env: process.env,
    uid,
    home: process.env.HOME || homedir(),
    cwd: process.cwd(),
    user: loginName(process.env, uid),
    ...as,
  });
}

/**
 * The daemon URL a CLI command talks to: `--url` > AGENTD_URL > the default address. An address
 * without a scheme (`127.0.0.1:8400`) is taken as http.
 */
export function resolveDaemonUrl(flag: string | undefined): string {
  const given = flag ?? nonEmpty(process.env.AGENTD_URL);
  if (given === null) return `http://${DEFAULT_HOST}:${DEFAULT_PORT}`;
  const source = flag === undefined ? "AGENTD_URL" : "--url";
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? given : `http://${given}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      `${source} "${given}" is not a daemon address: give HOST:PORT or http://HOST:PORT`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigError(
      `${source} "${given}" must be an http:// or https:// address, not ${parsed.protocol}//`,
    );
  }
  return url.replace(/\/+$/, "");
}

/** The token a CLI command sends: `--token`/`--token-file` > AGENTD_TOKEN/AGENTD_TOKEN_FILE. */
export function cliToken(flags: Pick<SettingFlags, "token" | "tokenFile">): string | null {
  return token(flags, process.env, process.cwd());
}

/**
 * Whoever reaches the API can run programs as this user through agents: on an address other
 * than loopback, the daemon listens only with a token.
 */
export function checkExposure(config: Pick<Config, "host" | "token">): void {
  if (config.token !== null || isLoopbackHost(config.host)) return;
  throw new ConfigError(
    `--host ${config.host} is reachable from other machines, and whoever reaches agentd's API can run commands on this one: set a token (--token-file FILE, or AGENTD_TOKEN), or listen on 127.0.0.1`,
  );
}

/** Where `agentd install` writes the daemon's own unit, by the manager that runs it. */
export type ServiceScope = "user" | "system";

export interface DaemonServiceFiles {
  unit: string;
  /** Optional KEY=value lines the unit reads its secrets from (EnvironmentFile=-). */
  environment: string;
}

export function daemonServiceFiles(config: Config, scope: ServiceScope): DaemonServiceFiles {
  // Agents' env files in persistentConfigDir are NAME.env: "environment" can never be one.
  return scope === "user"
    ? {
        unit: join(config.systemdUserDir, "agentd.service"),
        environment: join(config.persistentConfigDir, "environment"),
      }
    : { unit: "/etc/systemd/system/agentd.service", environment: "/etc/agentd/environment" };
}

/**
 * The token in a file: the whole content less surrounding whitespace. The file must belong to
 * this user alone, as an ssh key must; anyone else able to read it could drive the agents.
 */
export function readTokenFile(path: string): string {
  let mode: number;
  let text: string;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new ConfigError(`token file ${path} is not a regular file`);
    mode = stat.mode & 0o777;
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new ConfigError(
      missing
        ? `token file ${path} does not exist`
        : `cannot read token file ${path}: ${(error as Error).message}`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      `token file ${path} is open to group or others (mode ${mode.toString(8).padStart(4, "0")}); make it owner-only: chmod 600 ${path}`,
    );
  }
  const value = text.trim();
  if (value === "") throw new ConfigError(`token file ${path} is empty`);
  return value;
}

/**
 * `--token` or `--token-file`, flags before the environment; both at the same level is a
 * mistake worth stopping for, since either could be the one meant.
 */
function token(flags: SettingFlags, env: Record<string, string | undefined>, cwd: string) {
  const levels: [string | undefined, string | undefined, string][] = [
    [flags.token, flags.tokenFile, "--token and --token-file"],
    [
      nonEmpty(env.AGENTD_TOKEN) ?? undefined,
      nonEmpty(env.AGENTD_TOKEN_FILE) ?? undefined,
      "AGENTD_TOKEN and AGENTD_TOKEN_FILE",
    ],
  ];
  for (const [value, file, both] of levels) {
    if (value !== undefined && file !== undefined)
      throw new ConfigError(`give one of ${both}, not both`);
    if (value !== undefined) return value;
    if (file !== undefined) return readTokenFile(resolve(cwd, file));
  }
  return null;
}

/** `a.example, B.example` -> ["a.example", "b.example"]: names as Host headers carry them. */
function hostList(raw: string | undefined): string[] {
  const { flag, env } = SETTINGS.allowedHosts;
  return commaList(raw).map((entry) => {
    const host = parseHost(entry);
    if (host === null || host.port !== null) {
      throw new ConfigError(
        `--${flag} (${env}): "${entry}" is not a host name; give names or addresses (IPv6 in brackets) without a port or scheme, separated by commas`,
      );
    }
    return host.name;
  });
}

/** `https://a.example, http://localhost:3000` -> their origins, exactly as browsers send them. */
function originList(raw: string | undefined): string[] {
  const { flag, env } = SETTINGS.allowedOrigins;
  return commaList(raw).map((entry) => {
    let origin: string | null = null;
    try {
      const url = new URL(entry);
      if (url.protocol === "http:" || url.protocol === "https:") origin = url.origin;
    } catch {}
    if (origin === null || origin !== entry.replace(/\/$/, "")) {
      throw new ConfigError(
        `--${flag} (${env}): "${entry}" is not an origin; give scheme://host[:port] (such as https://dash.example.com), separated by commas`,
      );
    }
    return origin;
  });
}

function commaList(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
}

/** Secrets the daemon holds are not handed to agents. */
const SECRET_ENV = [
  "AGENTD_TOKEN",
  "AGENTD_TOKEN_FILE",
  "AGENTD_WEBHOOK_SECRET",
  "AGENTD_TITLE_KEY",
  "AGENTD_METRICS_TOKEN",
];

function withoutSecrets(env: Record<string, string | undefined>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !SECRET_ENV.includes(key)) kept[key] = value;
  }
  return kept;
}

function xdgDir(value: string | undefined, fallback: string): string {
  // The XDG spec says relative values are invalid and must be ignored.
  return value && isAbsolute(value) ? value : fallback;
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === "" ? null : value;
}

function integerSetting(
  name: SettingName,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  return parseInteger(`--${SETTINGS[name].flag} (${SETTINGS[name].env})`, raw, fallback, min, max);
}

function envInteger(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  return parseInteger(name, nonEmpty(env[name]) ?? undefined, fallback, min, max);
}

function parseInteger(
  label: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${label} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** An amount of US dollars, e.g. `5` or `0.25`; none when not given. */
function dollars(name: SettingName, raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const value = Number(raw);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(raw.trim()) || !Number.isFinite(value)) {
    const { flag, env } = SETTINGS[name];
    throw new ConfigError(
      `--${flag} (${env}) must be an amount of US dollars such as 5 or 0.25, got "${raw}"`,
    );
  }
  return value;
}

function promptFraming(raw: string | undefined): PromptFraming {
  if (raw === undefined) return DEFAULT_PROMPT_FRAMING;
  const framing = PROMPT_FRAMINGS.find((name) => name === raw);
  if (framing === undefined) {
    const { flag, env } = SETTINGS.promptFraming;
    throw new ConfigError(`--${flag} (${env}) must be envelope or raw, got "${raw}"`);
  }
  return framing;
}

function titleEndpoint(env: Record<string, string | undefined>): TitleEndpoint | null {
  const url = nonEmpty(env.AGENTD_TITLE_URL);
  const model = nonEmpty(env.AGENTD_TITLE_MODEL);
  if (!url || !model) return null;
  return { url, model, key: nonEmpty(env.AGENTD_TITLE_KEY) };
}

/**
 * $USER, else the passwd entry of this uid. (os.userInfo() answers "unknown" under Bun on some
 * machines, so it is not asked.)
 */
function loginName(env: Record<string, string | undefined>, uid: number): string | undefined {
  const fromEnv = nonEmpty(env.USER) ?? nonEmpty(env.LOGNAME);
  if (fromEnv) return fromEnv;
  try {
    const entry = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .map((line) => line.split(":"))
      .find((fields) => fields[2] === String(uid));
    return entry?.[0] || undefined;
  } catch {
    return undefined;
  }
}

function lingerFile(
  env: Record<string, string | undefined>,
  user: string | undefined,
): string | null {
  if (!user) return null;
  return join(nonEmpty(env.AGENTD_LINGER_DIR) ?? DEFAULT_LINGER_DIR, user);
}

function systemctlEnvironment(
  env: Record<string, string | undefined>,
  home: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ["PATH", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "DBUS_SESSION_BUS_ADDRESS"]) {
    const value = env[key];
    if (value) out[key] = value;
  }
  out.HOME = home;
  return out;
}
