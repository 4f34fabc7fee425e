import { join } from "node:path";
import type { Config } from "../config.ts";
import { selfCommand } from "../self.ts";
import { renderTemplate, type TemplateName } from "../templates/index.ts";
import { VERSION } from "../version.ts";

export const RESTART_SEC = 2;
export const TIMEOUT_STOP_SEC = 10;

export function agentExecPath(config: Config): string {
  return join(config.persistentConfigDir, "agent-exec.sh");
}

export function agentUnitPath(config: Config): string {
  return join(config.systemdUserDir, "agentd-agent@.service");
}

/** Render a built-in template with the paths this configuration resolves to. */
export function renderAsset(name: TemplateName, config: Config): string {
  return renderTemplate(name, {
    VERSION,
    ENV_DIR: unitPath(config.persistentConfigDir),
    EXEC_PATH: unitPath(agentExecPath(config)),
    STATE_DIR: unitPath(config.stateDir),
    PATH: config.systemctlEnv.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    RESTART_SEC: String(RESTART_SEC),
    TIMEOUT_STOP_SEC: String(TIMEOUT_STOP_SEC),
    BINARY: selfCommand().map(unitPath).join(" "),
  });
}

/** In unit files `%` starts a specifier; a literal one is written `%%`. */
function unitPath(path: string): string {
  return path.replaceAll("%", "%%");
}
