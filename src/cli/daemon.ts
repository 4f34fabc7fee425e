import {
  ConfigError,
  loadConfig,
  SETTINGS,
  type SettingFlags,
  type SettingName,
} from "../config.ts";
import { startDaemon } from "../daemon.ts";
import { errorMessage } from "../errors.ts";
import { isLogLevel, setLogLevel } from "../log.ts";
import type { FlagSpec } from "./args.ts";
import { UsageError } from "./args.ts";
import { defineCommand } from "./command.ts";

const settingFlags = Object.fromEntries(
  Object.values(SETTINGS).map((s) => [s.flag, { kind: "string", help: `${s.help} (${s.env})` }]),
) as Record<string, FlagSpec>;

export const daemonCommand = defineCommand({
  name: "daemon",
  summary: "run the agentd daemon (HTTP API on 127.0.0.1:8400 by default)",
  synopsis: "daemon [flags]",
  description:
    "Settings come from flags, then AGENTD_* environment variables, then defaults\n(XDG directories for a user, /var/lib/agentd and /var/log/agentd for root).\nWith --port 0 a free port is picked; the daemon prints `listening on URL` on stdout.",
  flags: {
    ...settingFlags,
    "log-level": { kind: "string", value: "LEVEL", help: "debug, info, warn or error (info)" },
  },
  async run({ flags, positionals }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    const level = flags["log-level"];
    if (level !== undefined) {
      if (!isLogLevel(level))
        throw new UsageError(`--log-level must be debug, info, warn or error`);
      setLogLevel(level);
    }
    const settings: SettingFlags = {};
    for (const [name, setting] of Object.entries(SETTINGS)) {
      const value = (flags as Record<string, string | undefined>)[setting.flag];
      if (typeof value === "string") settings[name as SettingName] = value;
    }
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig(settings);
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(error.message);
      throw error;
    }
    let daemon: Awaited<ReturnType<typeof startDaemon>>;
    try {
      daemon = await startDaemon(config);
    } catch (error) {
      process.stderr.write(`agentd daemon: could not start: ${errorMessage(error)}\n`);
      return 1;
    }
    process.stdout.write(`listening on ${daemon.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    });
    await daemon.shutdown();
    return 0;
  },
});
