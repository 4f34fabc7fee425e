import { describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ConfigError,
  type ConfigSources,
  checkExposure,
  resolveConfig,
  resolveDaemonUrl,
  settingFlagsFrom,
} from "../src/config.ts";
import { tempDir } from "./helpers/tmp.ts";

const user: ConfigSources = { flags: {}, env: {}, uid: 1000, home: "/home/ann", cwd: "/work" };
const root: ConfigSources = { flags: {}, env: {}, uid: 0, home: "/root", cwd: "/" };

describe("config", () => {
  test("a normal user gets XDG defaults under the home directory", () => {
    const config = resolveConfig(user);
    expect(config.host).toBe("127.0.0.1");
    expect(config.port).toBe(8400);
    expect(config.dbPath).toBe("/home/ann/.local/share/agentd/agentd.db");
    expect(config.logRoot).toBe("/home/ann/.local/state/agentd/logs");
    expect(config.workspaceRoot).toBe("/home/ann/.local/share/agentd/workspaces");
    expect(config.stateDir).toBe("/home/ann/.local/state/agentd/agents");
    expect(config.agentCommand).toBe("agent");
    expect(config.token).toBeNull();
    expect(config.systemdUserDir).toBe("/home/ann/.config/systemd/user");
  });

  test("XDG variables move the user defaults", () => {
    const config = resolveConfig({
      ...user,
      env: { XDG_DATA_HOME: "/data", XDG_STATE_HOME: "/state", XDG_CONFIG_HOME: "/cfg" },
    });
    expect(config.dbPath).toBe("/data/agentd/agentd.db");
    expect(config.logRoot).toBe("/state/agentd/logs");
    expect(config.stateDir).toBe("/state/agentd/agents");
    expect(config.systemdUserDir).toBe("/cfg/systemd/user");
  });

  test("relative XDG variables are ignored, as the XDG spec requires", () => {
    const config = resolveConfig({ ...user, env: { XDG_DATA_HOME: "relative/dir" } });
    expect(config.dbPath).toBe("/home/ann/.local/share/agentd/agentd.db");
  });

  test("root gets system paths", () => {
    const config = resolveConfig(root);
    expect(config.dbPath).toBe("/var/lib/agentd/agentd.db");
    expect(config.logRoot).toBe("/var/log/agentd");
    expect(config.workspaceRoot).toBe("/var/lib/agentd/workspaces");
    expect(config.stateDir).toBe("/var/lib/agentd/agents");
    expect(config.isRoot).toBe(true);
  });

  test("the environment beats the defaults", () => {
    const config = resolveConfig({
      ...user,
      env: {
        AGENTD_HOST: "0.0.0.0",
        AGENTD_PORT: "9000",
        AGENTD_DB: "/env/db.sqlite",
        AGENTD_LOG_ROOT: "/env/logs",
        AGENTD_WORKSPACE: "/env/ws",
        AGENTD_STATE_DIR: "/env/state",
        AGENTD_AGENT_COMMAND: "/opt/agent",
        AGENTD_TOKEN: "s3cret",
      },
    });
    expect(config.host).toBe("0.0.0.0");
    expect(config.port).toBe(9000);
    expect(config.dbPath).toBe("/env/db.sqlite");
    expect(config.logRoot).toBe("/env/logs");
    expect(config.workspaceRoot).toBe("/env/ws");
    expect(config.stateDir).toBe("/env/state");
    expect(config.agentCommand).toBe("/opt/agent");
    expect(config.token).toBe("s3cret");
  });

  test("flags beat the environment, and relative paths resolve against the working directory", () => {
    const config = resolveConfig({
      ...user,
      env: { AGENTD_PORT: "9000", AGENTD_DB: "/env/db.sqlite", AGENTD_STATE_DIR: "/env/state" },
      flags: { port: "0", db: "state/agentd.db", stateDir: "/flag/state" },
    });
    expect(config.port).toBe(0);
    expect(config.dbPath).toBe("/work/state/agentd.db");
    expect(config.stateDir).toBe("/flag/state");
  });

  test("drivers' files live in the state dir, which agentd can write wherever it runs", () => {
    const config = resolveConfig({ ...user, env: {}, flags: { stateDir: "/flag/state" } });
    expect(config.driverFilesDir).toBe("/flag/state/drivers");
  });

  test("an empty environment variable counts as unset", () => {
    expect(resolveConfig({ ...user, env: { AGENTD_PORT: "" } }).port).toBe(8400);
  });

  test("a port that is not a number from 0 to 65535 is refused with a message naming the flag", () => {
    for (const port of ["abc", "-1", "70000", "80.5"]) {
      expect(() => resolveConfig({ ...user, flags: { port } })).toThrow(ConfigError);
    }
    expect(() => resolveConfig({ ...user, env: { AGENTD_PORT: "x" } })).toThrow(
      /--port \(AGENTD_PORT\)/,
    );
  });

  describe("--token-file", () => {
    const dir = tempDir("agentd-token-");
    const tokenFile = (name: string, text: string, mode = 0o600) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      chmodSync(path, mode);
      return path;
    };

    test("reads the token from the file, without its trailing newline", () => {
      const path = tokenFile("token", "  s3cret-from-file\n");
      expect(resolveConfig({ ...user, flags: { tokenFile: path } }).token).toBe("s3cret-from-file");
      expect(resolveConfig({ ...user, env: { AGENTD_TOKEN_FILE: path } }).token).toBe(
        "s3cret-from-file",
      );
      expect(resolveConfig({ ...user, cwd: dir, flags: { tokenFile: "token" } }).token).toBe(
        "s3cret-from-file",
      );
    });

    test("refuses a file that group or others can read or write, saying how to fix it", () => {
      for (const mode of [0o640, 0o604, 0o620, 0o644]) {
        const path = tokenFile(`open-${mode.toString(8)}`, "s3cret", mode);
        expect(() => resolveConfig({ ...user, flags: { tokenFile: path } })).toThrow(
          `token file ${path} is open to group or others (mode 0${mode.toString(8)}); make it owner-only: chmod 600 ${path}`,
        );
      }
    });

    test("refuses a missing file, a directory and an empty file", () => {
      const missing = join(dir, "missing");
      expect(() => resolveConfig({ ...user, flags: { tokenFile: missing } })).toThrow(
        `token file ${missing} does not exist`,
      );
      expect(() => resolveConfig({ ...user, flags: { tokenFile: dir } })).toThrow(
        "is not a regular file",
      );
      const empty = tokenFile("empty", " \n");
      expect(() => resolveConfig({ ...user, flags: { tokenFile: empty } })).toThrow(
        `token file ${empty} is empty`,
      );
    });

    test("a flag beats the environment; a token and a token file at once are refused", () => {
      const path = tokenFile("flag-token", "from-file");
      expect(
        resolveConfig({ ...user, flags: { tokenFile: path }, env: { AGENTD_TOKEN: "from-env" } })
          .token,
      ).toBe("from-file");
      expect(() => resolveConfig({ ...user, flags: { token: "t", tokenFile: path } })).toThrow(
        "give one of --token and --token-file, not both",
      );
      expect(() =>
        resolveConfig({ ...user, env: { AGENTD_TOKEN: "t", AGENTD_TOKEN_FILE: path } }),
      ).toThrow("give one of AGENTD_TOKEN and AGENTD_TOKEN_FILE, not both");
    });

    test("the token file's path is not handed on to agents", () => {
      const path = tokenFile("hidden", "s3cret");
      const config = resolveConfig({ ...user, env: { AGENTD_TOKEN_FILE: path, KEEP: "1" } });
      expect(config.agentEnv).toEqual({ KEEP: "1" });
    });
  });

  test("prompt framing is envelope unless the flag or AGENTD_PROMPT_FRAMING says raw", () => {
    expect(resolveConfig(user).promptFraming).toBe("envelope");
    expect(resolveConfig({ ...user, env: { AGENTD_PROMPT_FRAMING: "raw" } }).promptFraming).toBe(
      "raw",
    );
    const flagWins = {
      ...user,
      env: { AGENTD_PROMPT_FRAMING: "raw" },
      flags: { promptFraming: "envelope" },
    };
    expect(resolveConfig(flagWins).promptFraming).toBe("envelope");
  });

  test("a prompt framing other than envelope or raw is refused, naming the flag and variable", () => {
    expect(() => resolveConfig({ ...user, flags: { promptFraming: "json" } })).toThrow(
      /--prompt-framing \(AGENTD_PROMPT_FRAMING\) must be envelope or raw, got "json"/,
    );
  });

  test("the original daemon's persistent-agent directory is found under XDG_CONFIG_HOME", () => {
    expect(resolveConfig(user).legacyAgentsDir).toBe("/home/ann/.config/agentd-agents");
    expect(resolveConfig({ ...user, env: { XDG_CONFIG_HOME: "/cfg" } }).legacyAgentsDir).toBe(
      "/cfg/agentd-agents",
    );
  });
});

describe("access and limits", () => {
  test("the lock file sits beside the database", () => {
    expect(resolveConfig({ ...user, flags: { db: "/d/x.db" } }).lockPath).toBe("/d/x.db.lock");
  });

  test("allowed hosts are names without ports, lowercased; anything else is refused", () => {
    const config = resolveConfig({
      ...user,
      env: { AGENTD_ALLOWED_HOSTS: " Box.Example , agents.internal., [::2],10.0.0.5" },
    });
    expect(config.allowedHosts).toEqual(["box.example", "agents.internal", "::2", "10.0.0.5"]);
    expect(resolveConfig(user).allowedHosts).toEqual([]);
    for (const bad of ["box.example:8400", "http://box.example", "a/b", "::2", "user@box"]) {
      expect(() => resolveConfig({ ...user, flags: { allowedHosts: bad } })).toThrow(
        `--allowed-hosts (AGENTD_ALLOWED_HOSTS): "${bad}" is not a host name`,
      );
    }
  });

  test("allowed origins are scheme://host[:port]; anything else is refused", () => {
    const config = resolveConfig({
      ...user,
      flags: { allowedOrigins: "https://dash.example, http://localhost:3000/" },
    });
    expect(config.allowedOrigins).toEqual(["https://dash.example", "http://localhost:3000"]);
    for (const bad of ["dash.example", "https://dash.example/app", "ftp://x", "*"]) {
      expect(() => resolveConfig({ ...user, flags: { allowedOrigins: bad } })).toThrow(
        `--allowed-origins (AGENTD_ALLOWED_ORIGINS): "${bad}" is not an origin`,
      );
    }
  });

  test("the prompt cap defaults to 512 KiB and cannot pass the body limit", () => {
    expect(resolveConfig(user).maxPromptBytes).toBe(512 * 1024);
    expect(resolveConfig({ ...user, flags: { maxPromptBytes: "1000" } }).maxPromptBytes).toBe(1000);
    expect(() => resolveConfig({ ...user, flags: { maxPromptBytes: "2000000" } })).toThrow(
      "--max-prompt-bytes (AGENTD_MAX_PROMPT_BYTES) must be a whole number from 1 to 1048576",
    );
  });

  test("the HTTP idle timeout is 60 s unless AGENTD_HTTP_IDLE_TIMEOUT_S says otherwise (1-255)", () => {
    expect(resolveConfig(user).httpIdleTimeoutS).toBe(60);
    expect(
      resolveConfig({ ...user, env: { AGENTD_HTTP_IDLE_TIMEOUT_S: "5" } }).httpIdleTimeoutS,
    ).toBe(5);
    expect(() => resolveConfig({ ...user, env: { AGENTD_HTTP_IDLE_TIMEOUT_S: "0" } })).toThrow(
      ConfigError,
    );
  });

  test("listening beyond loopback needs a token", () => {
    for (const host of ["127.0.0.1", "127.8.9.1", "localhost", "::1", "[::1]"]) {
      expect(() => checkExposure({ host, token: null })).not.toThrow();
    }
    for (const host of ["0.0.0.0", "::", "192.168.1.2", "box.example"]) {
      expect(() => checkExposure({ host, token: null })).toThrow(
        `--host ${host} is reachable from other machines`,
      );
      expect(() => checkExposure({ host, token: "t" })).not.toThrow();
    }
  });
});

describe("command-line settings", () => {
  test("flags map onto their settings; other values are not settings", () => {
    expect(settingFlagsFrom({ port: "9", db: "/d.db", "log-level": "debug", json: true })).toEqual({
      flags: { port: "9", db: "/d.db" },
      warnings: [],
    });
  });

  test("--pi-path is the deprecated name of --agent-command: it works, with a warning naming the new flag", () => {
    const { flags, warnings } = settingFlagsFrom({ "pi-path": "/opt/agent" });
    expect(flags).toEqual({ agentCommand: "/opt/agent" });
    expect(warnings).toEqual([
      "--pi-path is deprecated: use --agent-command (or AGENTD_AGENT_COMMAND)",
    ]);
    expect(resolveConfig({ ...user, flags }).agentCommand).toBe("/opt/agent");
  });

  test("--pi-path together with --agent-command is refused", () => {
    expect(() => settingFlagsFrom({ "pi-path": "/a", "agent-command": "/b" })).toThrow(
      /--pi-path is the old name of --agent-command: give only --agent-command/,
    );
  });
});

describe("cost settings", () => {
  test("--default-budget-usd is an amount of dollars; --prices a path; --metrics-token a secret", () => {
    const config = resolveConfig({
      ...user,
      flags: { defaultBudgetUsd: "2.50", prices: "prices.json", metricsToken: "m" },
      env: { AGENTD_METRICS_TOKEN: "from-env", PATH: "/bin" },
    });
    expect(config.defaultBudgetUsd).toBe(2.5);
    expect(config.pricesFile).toBe("/work/prices.json");
    expect(config.metricsToken).toBe("m");
    expect(config.agentEnv).toEqual({ PATH: "/bin" });
    const unset = resolveConfig(user);
    expect([unset.defaultBudgetUsd, unset.pricesFile, unset.metricsToken]).toEqual([
      null,
      null,
      null,
    ]);
    for (const bad of ["-1", "five", "1e3"]) {
      expect(() => resolveConfig({ ...user, flags: { defaultBudgetUsd: bad } })).toThrow(
        `--default-budget-usd (AGENTD_DEFAULT_BUDGET_USD) must be an amount of US dollars such as 5 or 0.25, got "${bad}"`,
      );
    }
  });
});

describe("the daemon URL of the CLI", () => {
  test("an address without a scheme is http; a trailing slash goes; other schemes are refused", () => {
    expect(resolveDaemonUrl("127.0.0.1:8400")).toBe("http://127.0.0.1:8400");
    expect(resolveDaemonUrl("https://agents.example/")).toBe("https://agents.example");
    expect(resolveDaemonUrl("localhost:9")).toBe("http://localhost:9");
    expect(() => resolveDaemonUrl("ftp://host")).toThrow("must be an http:// or https:// address");
    expect(() => resolveDaemonUrl("http://[::1")).toThrow("give HOST:PORT or http://HOST:PORT");
  });
});
