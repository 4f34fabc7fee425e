import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ConfigSources, resolveConfig } from "../../src/config.ts";
import { lingerWarning } from "../../src/systemd/linger.ts";
import { tempDir } from "../helpers/tmp.ts";

const sources: ConfigSources = {
  flags: {},
  env: {},
  uid: 1000,
  home: "/home/ann",
  cwd: "/",
  user: "ann",
};

describe("lingering", () => {
  test("is looked up where logind records it, unless AGENTD_LINGER_DIR says elsewhere", () => {
    expect(resolveConfig(sources).lingerFile).toBe("/var/lib/systemd/linger/ann");
    expect(resolveConfig({ ...sources, env: { AGENTD_LINGER_DIR: "/tmp/l" } }).lingerFile).toBe(
      "/tmp/l/ann",
    );
    expect(resolveConfig({ ...sources, user: undefined }).lingerFile).toBeNull();
  });

  test("a missing linger file is a warning that says how to enable lingering; a present one is none", () => {
    const file = join(tempDir("agentd-linger-"), "ann");
    expect(lingerWarning(file)).toContain("loginctl enable-linger ann");
    writeFileSync(file, "");
    expect(lingerWarning(file)).toBeNull();
  });

  test("an unknown user is a warning too: agentd cannot tell", () => {
    expect(lingerWarning(null)).toContain("cannot tell whether lingering is enabled");
  });
});
