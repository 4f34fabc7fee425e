import { describe, expect, test } from "bun:test";
import type { Metric, ScenarioResult, Target } from "../../bench/lib/scenario.ts";
import { summarize } from "../../bench/lib/stats.ts";
import {
  formatComparison,
  formatNumber,
  formatSummary,
  formatTarget,
  resultsNotes,
  resultsTable,
} from "../../bench/lib/table.ts";

const RATE: Metric = { unit: "lines/s", better: "higher" };
const AT_LEAST_HALF: Target = { compare: "ratio", bound: "min", value: 0.5 };
const PER_AGENT: Metric = { unit: "ms/agent", better: "lower" };
const ONE_MS_MORE: Target = { compare: "difference", bound: "max", value: 1 };

describe("formatNumber", () => {
  test("keeps three significant digits", () => {
    expect(formatNumber(1.15)).toBe("1.15");
    expect(formatNumber(0.2234)).toBe("0.223");
    expect(formatNumber(71.04)).toBe("71");
    expect(formatNumber(6627)).toBe("6627");
    expect(formatNumber(0)).toBe("0");
  });

  test("writes tens of thousands with k and millions with M", () => {
    expect(formatNumber(13_812)).toBe("13.8k");
    expect(formatNumber(1_264_000)).toBe("1.26M");
  });
});

describe("formatSummary", () => {
  test("gives the median with the range of the repetitions", () => {
    expect(formatSummary(summarize([13_800, 13_100, 14_200]), RATE)).toBe(
      "13.8k lines/s (13.1k–14.2k)",
    );
  });

  test("leaves the range out for a single measurement", () => {
    expect(formatSummary(summarize([13_800]), RATE)).toBe("13.8k lines/s");
  });
});

describe("comparisons and targets", () => {
  test("a ratio reads as a multiple", () => {
    expect(formatComparison(AT_LEAST_HALF, 13.8 / 1260, RATE)).toBe("0.011×");
    expect(formatComparison(AT_LEAST_HALF, 13.14, RATE)).toBe("13.1×");
    expect(formatTarget(AT_LEAST_HALF, RATE)).toBe("≥ 0.5×");
  });

  test("a difference reads with its sign and unit", () => {
    expect(formatComparison(ONE_MS_MORE, 2.1, PER_AGENT)).toBe("+2.1 ms/agent");
    expect(formatComparison(ONE_MS_MORE, -0.25, PER_AGENT)).toBe("−0.25 ms/agent");
    expect(formatTarget(ONE_MS_MORE, PER_AGENT)).toBe("≤ +1 ms/agent");
  });
});

const measured: ScenarioResult = {
  id: "ingest-one",
  title: "ingest one",
  baseline: "pipe + parse",
  metric: RATE,
  target: AT_LEAST_HALF,
  notes: ["1 agent"],
  status: "measured",
  agentd: summarize([10_000, 12_000]),
  baselineSummary: summarize([1_000_000, 1_200_000]),
  comparison: 0.01,
  checks: [{ what: "every event stored", ok: true }],
  met: false,
};

const skipped: ScenarioResult = {
  id: "ingest-persistent",
  title: "ingest persistent",
  baseline: "file follower",
  metric: RATE,
  target: AT_LEAST_HALF,
  notes: [],
  status: "skipped",
  reason: "no systemd user manager",
};

describe("resultsTable", () => {
  test("puts each ratio next to its target, with padded columns", () => {
    const lines = resultsTable([measured, skipped]).split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(
      /^\| scenario +\| agentd +\| baseline +\| ratio +\| target +\| met +\|$/,
    );
    expect(lines[1]).toMatch(/^\| -+ \| -+ \| -+ \| -+ \| -+ \| -+ \|$/);
    const cells = (line: string | undefined) => line?.split("|").map((cell) => cell.trim());
    expect(cells(lines[2])).toEqual([
      "",
      "ingest one",
      "11k lines/s (10k–12k)",
      "pipe + parse: 1.1M lines/s (1M–1.2M)",
      "0.01×",
      "≥ 0.5×",
      "**no**",
      "",
    ]);
    expect(cells(lines[3])).toEqual([
      "",
      "ingest persistent",
      "skipped (see below)",
      "file follower",
      "",
      "≥ 0.5×",
      "",
      "",
    ]);
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
  });
});

describe("resultsNotes", () => {
  test("lists each scenario's notes, checks, and why it was not measured", () => {
    expect(resultsNotes([measured, skipped])).toBe(
      [
        "- ingest one: 1 agent; ok: every event stored",
        "- ingest persistent: skipped: no systemd user manager",
      ].join("\n"),
    );
  });
});
