import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConflictError } from "../../src/errors.ts";
import { createManagedDir, removeTree, workspacePath } from "../../src/workspace/managed-dir.ts";
import { tempDir } from "../helpers/tmp.ts";

describe("managed directories", () => {
  test("are created as <root>/<id>, owner-only, making the root if needed", () => {
    const root = join(tempDir(), "workspaces");
    const path = createManagedDir(root, "demo-abc123");
    expect(path).toBe(join(root, "demo-abc123"));
    expect(statSync(path).isDirectory()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o700);
    expect(statSync(root).mode & 0o777).toBe(0o700);
  });

  test("an existing directory is never reused: 409, and its content is left alone", () => {
    const root = tempDir();
    mkdirSync(join(root, "taken"));
    writeFileSync(join(root, "taken", "keep.txt"), "mine");
    expect(() => createManagedDir(root, "taken")).toThrow(ConflictError);
    expect(existsSync(join(root, "taken", "keep.txt"))).toBe(true);
  });

  test("an id that is not one path segment cannot name a workspace", () => {
    for (const id of ["", ".", "..", "a/b", "../escape"]) {
      expect(() => workspacePath("/w", id)).toThrow(/cannot name a workspace/);
    }
  });

  test("removal deletes the whole tree, and a missing directory is fine", async () => {
    const root = tempDir();
    const path = createManagedDir(root, "gone");
    mkdirSync(join(path, "deep/er"), { recursive: true });
    writeFileSync(join(path, "deep/er/file"), "x");
    await removeTree(path);
    expect(existsSync(path)).toBe(false);
    await removeTree(path);
    expect(existsSync(root)).toBe(true);
  });
});
