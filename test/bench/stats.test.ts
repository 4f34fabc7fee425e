import { describe, expect, test } from "bun:test";
import { median, summarize } from "../../bench/lib/stats.ts";

describe("median", () => {
  test("is the middle value of an odd count, whatever the order", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([7])).toBe(7);
  });

  test("is the mean of the two middle values of an even count", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  test("of no values is an error", () => {
    expect(() => median([])).toThrow("no values");
  });
});

describe("summarize", () => {
  test("gives the median and the range, and keeps the samples in their order", () => {
    expect(summarize([30, 10, 20, 50, 40])).toEqual({
      median: 30,
      min: 10,
      max: 50,
      samples: [30, 10, 20, 50, 40],
    });
  });

  test("refuses a measurement that is not a finite number", () => {
    expect(() => summarize([1, Number.NaN])).toThrow("not a finite number");
    expect(() => summarize([1, Number.POSITIVE_INFINITY])).toThrow("not a finite number");
  });
});
