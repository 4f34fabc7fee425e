import { describe, expect, test } from "bun:test";
import { resolveConfig } from "../../../src/config.ts";
import { renderAsset, unitSearchPath } from "../../../src/runtimes/persistent/assets.ts";

const NIX_DIRS = "%h/.nix-profile/bin:/run/current-system/sw/bin";

describe("the persistent agents' unit", () => {
  test("PATH: the daemon's directories, then the Nix profiles and /usr/local/bin it lacks", () => {
    expect(unitSearchPath("/opt/bin:/usr/bin:/bin")).toBe(
      `/opt/bin:/usr/bin:/bin:${NIX_DIRS}:/usr/local/bin`,
    );
  });

  test("PATH: each directory once, in the daemon's order", () => {
    expect(
      unitSearchPath("/usr/local/bin:/usr/bin:/usr/local/bin::/run/current-system/sw/bin"),
    ).toBe("/usr/local/bin:/usr/bin:/run/current-system/sw/bin:%h/.nix-profile/bin");
  });

  test("PATH: a literal % of the daemon's is escaped, while %h stays systemd's home", () => {
    expect(unitSearchPath("/odd%dir")).toBe(`/odd%%dir:${NIX_DIRS}:/usr/local/bin`);
  });

  test("PATH: without one of the daemon's, the usual directories", () => {
    expect(unitSearchPath(undefined)).toBe(`/usr/local/bin:/usr/bin:/bin:${NIX_DIRS}`);
  });

  test("the rendered template carries it as one quoted Environment= word", () => {
    const config = resolveConfig({
      flags: {},
      env: { PATH: "/opt/x bin:/usr/bin" },
      uid: 1000,
      home: "/home/u",
      cwd: "/",
    });
    expect(renderAsset("agentd-agent@.service", config)).toContain(
      `\nEnvironment="PATH=/opt/x bin:/usr/bin:${NIX_DIRS}:/usr/local/bin"\n`,
    );
  });
});
