import {
  ConfigError,
  checkExposure,
  DEPRECATED_FLAGS,
  loadConfig,
  SETTINGS,
  settingFlagsFrom,
} from "../config.ts";
import type { RunningDaemon } from "../daemon.ts";
import { errorMessage } from "../errors.ts";
import { isLogLevel, log, setLogLevel } from "../log.ts";
import type { FlagSpec, FlagSpecs } from "./args.ts";
import { UsageError } from "./args.ts";
import { defineCommand } from "./command.ts";

const settingFlags = Object.fromEntries([
  ...Object.values(SETTINGS).map((s) => [s.flag, { kind: "string", help: `${s.help} (${s.env})` }]),
  ...Object.entries(DEPRECATED_FLAGS).map(([flag, name]) => [
    flag,
    { kind: "string", help: `deprecated: the old name of --${SETTINGS[name].flag}` },
  ]),
]) as Record<string, FlagSpec>;

/** The daemon's flags: its settings and the log level. `agentd install` takes them too. */
export const DAEMON_FLAGS = {
  ...settingFlags,
  "log-level": { kind: "string", value: "LEVEL", help: "debug, info, warn or error (info)" },
} satisfies FlagSpecs;

/** A setting the operator got wrong is a usage error, with config.ts's message. */
export function configFrom<T>(resolve: () => T): T {
  try {
    return resolve();
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

export const daemonCommand = defineCommand({
  name: "daemon",
  summary: "run the agentd daemon (HTTP API on 127.0.0.1:8400 by default)",
  synopsis: "daemon [flags]",
  description:
    "Settings come from flags, then AGENTD_* environment variables, then defaults\n(XDG directories for a user, /var/lib/agentd and /var/log/agentd for root).\nWith --port 0 a free port is picked; the daemon prints `listening on URL` on stdout.",
  flags: DAEMON_FLAGS,
  async run({ flags, positionals }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    const level = flags["log-level"];
    if (level !== undefined) {
      if (!isLogLevel(level))
        throw new UsageError(`--log-level must be debug, info, warn or error`);
      setLogLevel(level);
    }
    const settings = configFrom(() => settingFlagsFrom(flags));
    for (const warning of settings.warnings) log.warn(warning);
    const config = configFrom(() => {
      const resolved = loadConfig(settings.flags);
      checkExposure(resolved);
      return resolved;
    });
    let daemon: RunningDaemon;
    try {
      // Loaded here, not at the top: every other command (and every echo-agent) starts
      // without the server, the store and the runtimes.
      const { startDaemon } = await import("../daemon.ts");
      daemon = await startDaemon(config);
    } catch (error) {
      process.stderr.write(`agentd daemon: could not start: ${errorMessage(error)}\n`);
      return 1;
    }
    // The handlers first: whoever reads the address may signal at once.
    const stopped = new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    });
    process.stdout.write(`listening on ${daemon.url}\n`);
    await stopped;
    await daemon.shutdown();
    return 0;
  },
});
