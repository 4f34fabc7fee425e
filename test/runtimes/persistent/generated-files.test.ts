import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConflictError } from "../../../src/errors.ts";
import { GeneratedFiles, type HandEdit } from "../../../src/runtimes/persistent/generated-files.ts";
import { lineDiff } from "../../../src/runtimes/persistent/line-diff.ts";
import { tempDir } from "../../helpers/tmp.ts";

function setup() {
  const dir = tempDir("agentd-generated-");
  const files = new GeneratedFiles(join(dir, "generated.json"));
  const path = join(dir, "unit.service");
  const file = (content: string) => ({ path, content, mode: 0o640 });
  return { dir, files, path, file };
}

function handEditsOf(action: () => void): HandEdit[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ConflictError)
      return (error.details as { hand_edits: HandEdit[] }).hand_edits;
    throw error;
  }
  throw new Error("expected a ConflictError");
}

describe("generated files", () => {
  test("are written with their mode, and rewritten freely while nobody edits them", () => {
    const { files, path, file } = setup();
    files.write([file("a\n")], false);
    expect(readFileSync(path, "utf8")).toBe("a\n");
    expect(statSync(path).mode & 0o777).toBe(0o640);
    files.write([file("b\n")], false);
    expect(readFileSync(path, "utf8")).toBe("b\n");
  });

  test("a hand edit is refused with the difference, left in place, and overwritten only when forced", () => {
    const { files, path, file } = setup();
    files.write([file("one\ntwo\n")], false);
    writeFileSync(path, "one\nTWO\n");
    const [edit] = handEditsOf(() => files.write([file("one\ntwo\nthree\n")], false));
    expect(edit?.path).toBe(path);
    expect(edit?.diff).toContain("-two\n-three\n+TWO\n");
    expect(readFileSync(path, "utf8")).toBe("one\nTWO\n");
    files.write([file("one\ntwo\nthree\n")], true);
    expect(readFileSync(path, "utf8")).toBe("one\ntwo\nthree\n");
  });

  test("an existing file agentd has no record of counts as hand-made", () => {
    const { files, path, file } = setup();
    writeFileSync(path, "mine\n");
    expect(handEditsOf(() => files.write([file("agentd's\n")], false))).toHaveLength(1);
  });

  test("a file that already says what agentd would write is adopted; a deleted one is written again", () => {
    const { files, path, file } = setup();
    writeFileSync(path, "same\n");
    files.write([file("same\n")], false);
    files.write([file("changed\n")], false);
    rmSync(path);
    files.write([file("back\n")], false);
    expect(readFileSync(path, "utf8")).toBe("back\n");
  });

  test("remove deletes the file and forgets it", () => {
    const { files, path, file } = setup();
    files.write([file("x\n")], false);
    files.remove(path);
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, "someone else's\n");
    expect(handEditsOf(() => files.write([file("x\n")], false))).toHaveLength(1);
  });

  test("the diff shows kept, removed and added lines", () => {
    expect(lineDiff("a\nb\nc\n", "a\nc\nd\n", ["old", "new"])).toBe(
      "--- old\n+++ new\n a\n-b\n c\n+d\n",
    );
  });
});
