import type { Metric, ScenarioResult, Target } from "./scenario.ts";
import type { Summary } from "./stats.ts";

/** A number to three significant digits, with k and M for thousands and millions. */
export function formatNumber(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6) return `${significant(value / 1e6)}M`;
  if (magnitude >= 1e4) return `${significant(value / 1e3)}k`;
  return significant(value);
}

function significant(value: number, digits = 3): string {
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude >= 10 ** digits) return Math.round(value).toString();
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(magnitude)));
  return Number(value.toFixed(decimals)).toString();
}

/** "13.8k lines/s (13.1k–14.2k)": the median and, in brackets, the range. */
export function formatSummary(summary: Summary, metric: Metric): string {
  const median = `${formatNumber(summary.median)} ${metric.unit}`;
  if (summary.samples.length < 2) return median;
  return `${median} (${formatNumber(summary.min)}–${formatNumber(summary.max)})`;
}

/** A ratio as a multiple ("0.0123×", "13.1×"); a difference with its sign and unit. */
export function formatComparison(target: Target, value: number, metric: Metric): string {
  if (target.compare === "ratio") return `${significant(value)}×`;
  return `${value >= 0 ? "+" : "−"}${significant(Math.abs(value))} ${metric.unit}`;
}

export function formatTarget(target: Target, metric: Metric): string {
  const bound = target.bound === "min" ? "≥" : "≤";
  if (target.compare === "ratio") return `${bound} ${target.value}×`;
  return `${bound} +${target.value} ${metric.unit}`;
}

const HEADERS = ["scenario", "agentd", "baseline", "ratio", "target", "met"];

/** The results as a Markdown table, columns padded so it also reads well in a terminal. */
export function resultsTable(results: readonly ScenarioResult[]): string {
  const rows = results.map(row);
  const widths = HEADERS.map((header, column) =>
    Math.max(header.length, ...rows.map((cells) => (cells[column] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  const rule = line(widths.map((width) => "-".repeat(width)));
  return [line(HEADERS), rule, ...rows.map(line)].join("\n");
}

function row(result: ScenarioResult): string[] {
  const target = formatTarget(result.target, result.metric);
  if (result.status !== "measured") {
    return [result.title, `${result.status} (see below)`, result.baseline, "", target, ""];
  }
  return [
    result.title,
    formatSummary(result.agentd, result.metric),
    `${result.baseline}: ${formatSummary(result.baselineSummary, result.metric)}`,
    formatComparison(result.target, result.comparison, result.metric),
    target,
    result.met ? "yes" : "**no**",
  ];
}

/** The checks and notes under the table, one line per scenario that has any. */
export function resultsNotes(results: readonly ScenarioResult[]): string {
  const lines: string[] = [];
  for (const result of results) {
    const outcome =
      result.status === "measured"
        ? result.checks.map((check) => `${check.ok ? "ok" : "FAILED"}: ${check.what}`)
        : [`${result.status}: ${result.reason}`];
    const facts = [...result.notes, ...outcome];
    if (facts.length > 0) lines.push(`- ${result.title}: ${facts.join("; ")}`);
  }
  return lines.join("\n");
}
