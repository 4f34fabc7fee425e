import { describe, expect, test } from "bun:test";
import { type DaemonUnit, renderDaemonUnit } from "../../src/cli/daemon-unit.ts";

const user: DaemonUnit = {
  scope: "user",
  version: "1.2.3+abc",
  command: ["/opt/agentd/bin/agentd", "daemon", "--port", "8400"],
  tokenFile: null,
  environmentFile: "/home/ann/.config/agentd/environment",
  stopGraceMs: 5000,
  user: null,
  writablePaths: [],
  neededPaths: ["/opt/agentd/bin/agentd"],
};

const system: DaemonUnit = {
  ...user,
  scope: "system",
  environmentFile: "/etc/agentd/environment",
  writablePaths: [
    "/var/lib/agentd",
    "/var/log/agentd",
    "/var/lib/agentd/workspaces",
    "/var/lib/agentd/agents",
  ],
};

/** The settings of a unit, `Key=value` lines without comments, by section. */
function settings(text: string): Record<string, string[]> {
  const sections: Record<string, string[]> = {};
  let current = "";
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header?.[1]) {
      current = header[1];
      sections[current] = [];
    } else {
      sections[current]?.push(line);
    }
  }
  return sections;
}

function setting(text: string, key: string): string[] {
  return Object.values(settings(text))
    .flat()
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

describe("the daemon's unit", () => {
  test("runs the program by absolute path with its flags, each word quoted", () => {
    const text = renderDaemonUnit(user);
    expect(setting(text, "ExecStart")).toEqual([
      '"/opt/agentd/bin/agentd" "daemon" "--port" "8400"',
    ]);
  });

  test("quotes spaces, quotes, backslashes, % and $ so systemd passes them on byte-exact", () => {
    const text = renderDaemonUnit({
      ...user,
      command: ["/opt/my agentd/agentd", "daemon", "--agent-command", `/x/a%i "q" b\\c $HOME`],
    });
    expect(setting(text, "ExecStart")).toEqual([
      String.raw`"/opt/my agentd/agentd" "daemon" "--agent-command" "/x/a%%i \"q\" b\\c $$HOME"`,
    ]);
  });

  test("reads secrets from an optional environment file and restarts on failure", () => {
    for (const unit of [user, system]) {
      const text = renderDaemonUnit(unit);
      expect(setting(text, "EnvironmentFile")).toEqual([`-${unit.environmentFile}`]);
      expect(setting(text, "Restart")).toEqual(["on-failure"]);
      expect(setting(text, "KillMode")).toEqual(["mixed"]);
      expect(text).toStartWith(
        `# Written by \`agentd install --${unit.scope}\` (agentd 1.2.3+abc)`,
      );
      expect(text).not.toContain("{{");
      expect(text).not.toContain("\n\n\n");
    }
  });

  test("leaves systemd room for the daemon's own stop grace period", () => {
    expect(setting(renderDaemonUnit(user), "TimeoutStopSec")).toEqual(["30"]);
    expect(setting(renderDaemonUnit({ ...user, stopGraceMs: 45_500 }), "TimeoutStopSec")).toEqual([
      "56",
    ]);
  });

  describe("--user", () => {
    const text = renderDaemonUnit({ ...user, tokenFile: "/home/ann/.config/agentd/token" });

    test("has no network-online.target, which a user manager does not have", () => {
      expect(text).not.toContain("network-online.target");
      expect(settings(text).Unit).toEqual(["Description=agentd: supervisor for LLM coding agents"]);
    });

    test("starts with the user's session (default.target)", () => {
      expect(settings(text).Install).toEqual(["WantedBy=default.target"]);
    });

    test("gets only the hardening a user manager enforces, and no User=", () => {
      expect(setting(text, "NoNewPrivileges")).toEqual(["yes"]);
      for (const key of ["ProtectSystem", "ProtectHome", "PrivateTmp", "ReadWritePaths", "User"])
        expect(setting(text, key)).toEqual([]);
    });

    test("passes the token file by path, never the token", () => {
      expect(setting(text, "ExecStart")[0]).toEndWith(
        '"--token-file" "/home/ann/.config/agentd/token"',
      );
      expect(setting(text, "LoadCredential")).toEqual([]);
    });
  });

  describe("--system", () => {
    const text = renderDaemonUnit(system);

    test("starts after the network is up, at boot", () => {
      expect(settings(text).Unit).toContain("After=network-online.target");
      expect(settings(text).Unit).toContain("Wants=network-online.target");
      expect(settings(text).Install).toEqual(["WantedBy=multi-user.target"]);
    });

    test("makes everything read-only but the daemon's directories, each named once", () => {
      expect(setting(text, "ProtectSystem")).toEqual(["strict"]);
      expect(setting(text, "ReadWritePaths")).toEqual(['"/var/lib/agentd" "/var/log/agentd"']);
      expect(setting(text, "PrivateTmp")).toEqual(["yes"]);
      expect(setting(text, "NoNewPrivileges")).toEqual(["yes"]);
    });

    test("hides home directories when it needs nothing there", () => {
      expect(setting(text, "ProtectHome")).toEqual(["yes"]);
    });

    test("keeps homes visible but read-only when workspaces, or its own program, live under one", () => {
      const workspacesAtHome = renderDaemonUnit({
        ...system,
        writablePaths: [...system.writablePaths, "/home/ann/repos"],
      });
      expect(setting(workspacesAtHome, "ProtectHome")).toEqual(["read-only"]);
      expect(setting(workspacesAtHome, "ReadWritePaths")).toEqual([
        '"/var/lib/agentd" "/var/log/agentd" "/home/ann/repos"',
      ]);
      const programAtHome = renderDaemonUnit({ ...system, neededPaths: ["/root/bin/agentd"] });
      expect(setting(programAtHome, "ProtectHome")).toEqual(["read-only"]);
      const lookalike = renderDaemonUnit({ ...system, neededPaths: ["/homework/agentd"] });
      expect(setting(lookalike, "ProtectHome")).toEqual(["yes"]);
    });

    test("runs as the account asked for, and as root without one", () => {
      expect(setting(text, "User")).toEqual([]);
      expect(setting(renderDaemonUnit({ ...system, user: "agentd" }), "User")).toEqual(["agentd"]);
    });

    test("hands the token file over as a credential, for a service user that cannot read it", () => {
      const withToken = renderDaemonUnit({ ...system, tokenFile: "/etc/agentd/100%token" });
      expect(setting(withToken, "LoadCredential")).toEqual(["token:/etc/agentd/100%%token"]);
      expect(setting(withToken, "ExecStart")[0]).toEndWith('"--token-file" "%d/token"');
    });
  });
});
