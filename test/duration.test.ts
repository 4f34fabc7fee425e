import { describe, expect, test } from "bun:test";
import { formatDuration, parseDuration } from "../src/duration.ts";

describe("durations", () => {
  test("units and sequences of them read as milliseconds", () => {
    expect(parseDuration("7d")).toBe(7 * 86_400_000);
    expect(parseDuration("2w")).toBe(14 * 86_400_000);
    expect(parseDuration("12h")).toBe(43_200_000);
    expect(parseDuration("90m")).toBe(5_400_000);
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("1d12h")).toBe(36 * 3_600_000);
    expect(parseDuration("0s")).toBe(0);
  });

  test("anything else is not a duration", () => {
    for (const text of ["", "7", "d", "7x", "7 d", "-1d", "1.5d", "7dd", "d7"]) {
      expect(parseDuration(text)).toBeNull();
    }
  });

  test("are written in the largest unit that divides them", () => {
    expect(formatDuration(7 * 86_400_000)).toBe("1w");
    expect(formatDuration(36 * 3_600_000)).toBe("36h");
    expect(formatDuration(90_000)).toBe("90s");
    expect(formatDuration(1500)).toBe("1500ms");
    expect(formatDuration(0)).toBe("0ms");
  });
});
