import { describe, expect, test } from "bun:test";
import type { UsageReport } from "../../src/api/cost.ts";
import { costTable } from "../../src/cli/cost.ts";

const totals = (cost: number | null, unknownTurns: number) => ({
  calls: 3,
  turns: 2,
  input_tokens: 10,
  output_tokens: 20,
  cost_micro_usd: cost,
  unknown_cost_calls: unknownTurns,
  unknown_cost_turns: unknownTurns,
});

describe("the cost table", () => {
  test("an unknown cost shows as -, never $0, and the turns it touches are counted and explained", () => {
    const report: UsageReport = {
      group_by: "model",
      since: null,
      until: null,
      groups: [
        { key: "priced", ...totals(1_500_000, 0) },
        { key: "mystery", ...totals(null, 2) },
      ],
      total: totals(1_500_000, 2),
    };
    expect(costTable(report)).toBe(
      [
        "MODEL    TURNS  IN  OUT  COST     UNKNOWN",
        "priced   2      10  20   $1.5000",
        "mystery  2      10  20   -        2 turns",
        "TOTAL    2      10  20   $1.5000  2 turns",
        "the cost of 2 turn(s) is unknown and not in COST: their agents reported none and their model has no price (PUT /prices)",
        "",
      ].join("\n"),
    );
  });
});
