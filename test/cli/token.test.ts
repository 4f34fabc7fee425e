import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon, stopAllDaemons } from "../helpers/daemon.ts";
import { tempDir } from "../helpers/tmp.ts";
import { runCli } from "./run-cli.ts";

// Real processes on a loaded machine: Bun's 5 s default is too short.
setDefaultTimeout(60_000);

afterAll(stopAllDaemons);

describe("the CLI's token", () => {
  test("--token, --token-file and AGENTD_TOKEN each get a command past a daemon that requires one", async () => {
    const daemon = await startDaemon({ args: ["--token", "cli-s3cret"] });
    const file = join(tempDir("agentd-cli-token-"), "token");
    writeFileSync(file, "cli-s3cret\n", { mode: 0o600 });
    const ls = ["ls", "--url", daemon.url, "--json"];

    const without = await runCli(ls);
    expect(without.code).toBe(1);
    expect(without.stderr).toContain("requires a token");

    for (const [extra, env] of [
      [["--token", "cli-s3cret"], {}],
      [["--token-file", file], {}],
      [[], { AGENTD_TOKEN: "cli-s3cret" }],
      [[], { AGENTD_TOKEN_FILE: file }],
    ] as const) {
      const res = await runCli([...ls, ...extra], { env });
      expect(`${extra.join(" ")} ${JSON.stringify(env)} ${res.code}`).toBe(
        `${extra.join(" ")} ${JSON.stringify(env)} 0`,
      );
      expect(JSON.parse(res.stdout)).toEqual([]);
    }

    const wrong = await runCli([...ls, "--token", "nope"], { env: { AGENTD_TOKEN: "cli-s3cret" } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("wrong token");
  });

  test("a token file others can read is refused with a usage error saying how to fix it", async () => {
    const file = join(tempDir("agentd-cli-token-"), "token");
    writeFileSync(file, "x\n");
    chmodSync(file, 0o644);
    const res = await runCli(["ls", "--token-file", file]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`chmod 600 ${file}`);
  });
});
