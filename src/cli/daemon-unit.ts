import type { ServiceScope } from "../config.ts";
import { execWord, unitPath, unitWord } from "../systemd/unit-syntax.ts";
import { renderTemplate } from "../templates/index.ts";

/** What the daemon's own unit is made of: `agentd install` decides it, renderDaemonUnit writes it. */
export interface DaemonUnit {
  scope: ServiceScope;
  version: string;
  /** The daemon's command line: this program by absolute path, `daemon`, the flags. */
  command: string[];
  /** Owner-only file holding the bearer token, never the token itself. */
  tokenFile: string | null;
  environmentFile: string;
  stopGraceMs: number;
  /** System mode: the account the daemon runs as; null for root. */
  user: string | null;
  /** System mode: every directory the daemon and its agents may write; the rest is read-only. */
  writablePaths: string[];
  /** Files the service must see to run at all: its program, the agent command. */
  neededPaths: string[];
}

/** Where homes live; hidden from a system service unless it needs something there. */
const HOME_ROOTS = ["/home", "/root"];

export function renderDaemonUnit(unit: DaemonUnit): string {
  const system = unit.scope === "system";
  const text = renderTemplate("agentd.service", {
    SCOPE: unit.scope,
    VERSION: unit.version,
    // A user manager has no network-online.target to order after: it would be a no-op there.
    UNIT_DEPENDENCIES: system ? "After=network-online.target\nWants=network-online.target" : "",
    EXEC_START: [...unit.command.map(execWord), ...tokenWords(unit)].join(" "),
    ENVIRONMENT_FILE: unitPath(unit.environmentFile),
    // Room for the daemon's own grace period before systemd falls back to SIGKILL.
    TIMEOUT_STOP_SEC: String(Math.max(30, Math.ceil(unit.stopGraceMs / 1000) + 10)),
    SERVICE_SETTINGS: (system ? systemSettings(unit) : userSettings()).join("\n"),
    WANTED_BY: system ? "multi-user.target" : "default.target",
  });
  // An empty block leaves blank lines behind; one is enough.
  return text.replace(/\n{3,}/g, "\n\n");
}

/**
 * `--token-file`, quoted for the Exec line. In system mode systemd hands the file over as a
 * credential, readable by the service's user even when the file belongs to root; `%d` (left
 * unescaped on purpose) is the credentials directory.
 */
function tokenWords(unit: DaemonUnit): string[] {
  if (unit.tokenFile === null) return [];
  const file = unit.scope === "system" ? '"%d/token"' : execWord(unit.tokenFile);
  return [execWord("--token-file"), file];
}

/** A user manager cannot build mount namespaces for its services; this much it enforces. */
function userSettings(): string[] {
  return [
    "# Neither the daemon nor its run-mode agents can gain privileges (no setuid, no sudo).",
    "NoNewPrivileges=yes",
  ];
}

function systemSettings(unit: DaemonUnit): string[] {
  const writable = withoutNested(unit.writablePaths);
  const underHome = [...writable, ...unit.neededPaths].some((path) =>
    HOME_ROOTS.some((home) => isWithin(path, home)),
  );
  return [
    ...(unit.user === null ? [] : [`User=${unitPath(unit.user)}`]),
    ...(unit.tokenFile === null ? [] : [`LoadCredential=token:${unitPath(unit.tokenFile)}`]),
    "# Read-only everywhere but the daemon's own directories; its run-mode agents inherit this.",
    "ProtectSystem=strict",
    `ReadWritePaths=${writable.map(unitWord).join(" ")}`,
    underHome
      ? "# It needs files under a home directory: homes stay visible, read-only."
      : "# It needs nothing under a home directory: homes are hidden.",
    `ProtectHome=${underHome ? "read-only" : "yes"}`,
    "PrivateTmp=yes",
    "NoNewPrivileges=yes",
  ];
}

function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** Each directory once, and none inside another listed one. */
function withoutNested(paths: string[]): string[] {
  const unique = [...new Set(paths)];
  return unique.filter((path) => !unique.some((other) => other !== path && isWithin(path, other)));
}
