import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { driverFilesIn } from "../../src/agents/driver-files.ts";
import { tempDir } from "../helpers/tmp.ts";

describe("driver files", () => {
  test("a file is written owner-only in a directory created owner-only, and its path returned", () => {
    const dir = join(tempDir(), "state", "drivers");
    const path = driverFilesIn(dir).install("gate.ts", "export default 1;\n");
    expect(path).toBe(join(dir, "gate.ts"));
    expect(readFileSync(path, "utf8")).toBe("export default 1;\n");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  test("a file that already holds the content is left alone; other content is replaced whole", () => {
    const dir = tempDir();
    const files = driverFilesIn(dir);
    const path = files.install("gate.ts", "one");
    const past = new Date("2020-01-01T00:00:00Z");
    utimesSync(path, past, past);
    files.install("gate.ts", "one");
    expect(statSync(path).mtime).toEqual(past);
    writeFileSync(path, "edited by hand");
    files.install("gate.ts", "two");
    expect(readFileSync(path, "utf8")).toBe("two");
    expect(readdirSync(dir)).toEqual(["gate.ts"]);
  });

  test("a name that is not a plain file name is refused", () => {
    const files = driverFilesIn(tempDir());
    for (const name of ["../escape.ts", "sub/gate.ts", ".hidden", ""]) {
      expect(() => files.install(name, "x")).toThrow("a driver file is named by a plain file name");
    }
  });

  test("a directory it cannot write is an error that names the file", () => {
    const blocked = join(tempDir(), "not-a-dir");
    writeFileSync(blocked, "a file where the directory should be");
    expect(() => driverFilesIn(join(blocked, "drivers")).install("gate.ts", "x")).toThrow(
      `could not write the driver file ${join(blocked, "drivers", "gate.ts")}:`,
    );
  });
});
