import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { logFiles } from "../../src/logs/log-files.ts";
import { fillFilesystem, IS_ROOT, smallFilesystem, unmountAll } from "../helpers/faults.ts";
import { testLog } from "../helpers/logs.ts";
import { tempDir } from "../helpers/tmp.ts";

afterAll(unmountAll);

const lineOf = (i: number) => `line ${String(i).padStart(5, "0")} ${"x".repeat(80)}`;

describe("agent log", () => {
  test("is rotated before it would pass its limit, keeping N rotated files, whole lines in each", () => {
    const path = join(tempDir("agentd-log-"), "agent.log");
    const { log } = testLog(path, { maxBytes: 1000, keep: 2 });
    for (let i = 0; i < 100; i++) log.write("", lineOf(i));
    log.close();
    expect(logFiles(path)).toEqual([`${path}.2`, `${path}.1`, path]);
    expect(existsSync(`${path}.3`)).toBe(false);
    const text = logFiles(path).map((file) => readFileSync(file, "utf8"));
    for (const file of logFiles(path)) expect(statSync(file).size).toBeLessThanOrEqual(1000);
    // Whole lines, in order, the newest last; the oldest were dropped with the oldest file.
    const lines = text.join("").split("\n").filter(Boolean);
    expect(lines.at(-1)).toBe(lineOf(99));
    expect(lines).toEqual(lines.map((_, i) => lineOf(100 - lines.length + i)));
  });

  test("with keep 0 the log starts over when full", () => {
    const path = join(tempDir("agentd-log-"), "agent.log");
    const { log } = testLog(path, { maxBytes: 500, keep: 0 });
    for (let i = 0; i < 20; i++) log.write("", lineOf(i));
    log.close();
    expect(logFiles(path)).toEqual([path]);
    expect(readFileSync(path, "utf8").split("\n").filter(Boolean).at(-1)).toBe(lineOf(19));
  });

  test.skipIf(!IS_ROOT)(
    "on a full disk lines are lost whole, counted, reported once, and noted in the log once it can be written again [needs root: a small tmpfs]",
    () => {
      const dir = smallFilesystem(256 * 1024);
      const path = join(dir, "agent.log");
      const { log, trouble } = testLog(path);
      log.write("", "before");
      const full = fillFilesystem(dir);
      for (let i = 0; i < 50; i++) log.write("", lineOf(i));
      expect(trouble).toHaveLength(1);
      expect(trouble[0]).toMatch(/^failed: .*ENOSPC/);
      expect(log.lostLines).toBeGreaterThan(0);
      const lost = log.lostLines;
      full.free();
      log.write("", "after");
      log.close();
      expect(trouble[1]).toBe(`recovered: ${lost} lost`);
      const lines = readFileSync(path, "utf8").split("\n");
      // Every line in the file is whole: what did not fit is gone, not torn.
      const written = lines.filter((line) => line.startsWith("line "));
      for (const line of written) expect(line).toMatch(/^line \d{5} x{80}$/);
      expect(written.length + lost).toBe(50);
      expect(lines.at(-3)).toContain(`${lost} line(s) could not be written to this log`);
      expect(lines.at(-2)).toBe("after");
    },
  );

  test.skipIf(IS_ROOT)(
    "a log directory that cannot be written loses lines at rotation, counted, until it can [not as root: permissions do not stop root]",
    () => {
      const dir = tempDir("agentd-log-ro-");
      const path = join(dir, "agent.log");
      const { log, trouble } = testLog(path, { maxBytes: 500, keep: 1 });
      log.write("", "before");
      chmodSync(dir, 0o500);
      for (let i = 0; i < 20; i++) log.write("", lineOf(i));
      expect(trouble[0]).toMatch(/^failed: .*EACCES/);
      expect(log.lostLines).toBeGreaterThan(0);
      chmodSync(dir, 0o700);
      log.write("", "after");
      expect(trouble[1]).toMatch(/^recovered: \d+ lost$/);
      log.close();
    },
  );

  test("closed while it cannot be written, it says how many lines were lost", () => {
    const dir = tempDir("agentd-log-gone-");
    // A file where the log's directory should be: nothing can be written under it.
    const path = join(dir, "agent.log");
    const blocked = testLog(join(path, "agent.log"));
    writeFileSync(path, "not a directory");
    blocked.log.write("", "one");
    blocked.log.write("", "two");
    blocked.log.close();
    expect(blocked.trouble.at(-1)).toBe("closed: 2 lost");
  });
});
