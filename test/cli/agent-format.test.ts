import { describe, expect, test } from "bun:test";
import { formatCost } from "../../src/cli/agent-format.ts";

describe("formatCost", () => {
  test("shows micro-USD as dollars to a hundredth of a cent", () => {
    expect(formatCost(1000)).toBe("$0.0010");
    expect(formatCost(1_234_567)).toBe("$1.2346");
    expect(formatCost(0)).toBe("$0.0000");
  });

  test("shows an unknown cost as -, never as zero", () => {
    expect(formatCost(null)).toBe("-");
  });
});
