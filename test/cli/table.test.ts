import { describe, expect, test } from "bun:test";
import { formatFields, formatTable, truncate } from "../../src/cli/table.ts";

describe("formatTable", () => {
  test("pads every column but the last to its widest cell", () => {
    const table = formatTable(
      ["ID", "STATUS", "NOTE"],
      [
        ["a", "idle", "x"],
        ["longer-id", "running", ""],
      ],
    );
    expect(table.split("\n")).toEqual([
      "ID         STATUS   NOTE",
      "a          idle     x",
      "longer-id  running",
      "",
    ]);
  });
});

describe("formatFields", () => {
  test("aligns values after their keys and indents continuation lines under the value", () => {
    expect(
      formatFields([
        ["id", "a"],
        ["summary", "one\ntwo"],
      ]),
    ).toBe("id:       a\nsummary:  one\n          two\n");
  });
});

describe("truncate", () => {
  test("keeps short text, folds whitespace into one line and marks a cut with …", () => {
    expect(truncate("short", 10)).toBe("short");
    expect(truncate("two\nlines", 10)).toBe("two lines");
    expect(truncate("abcdefghijkl", 5)).toBe("abcd…");
  });
});
