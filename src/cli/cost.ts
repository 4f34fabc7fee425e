import { USAGE_GROUPS, type UsageGroup } from "../agents/cost.ts";
import type { UsageReport } from "../api/cost.ts";
import { formatCost } from "./agent-format.ts";
import { UsageError } from "./args.ts";
import { clientFrom, JSON_FLAG, URL_FLAG } from "./client.ts";
import { defineCommand } from "./command.ts";
import { printJson } from "./output.ts";
import { formatTable } from "./table.ts";

export const costCommand = defineCommand({
  name: "cost",
  summary: "what agents cost: tokens and dollars by agent, model, day or protocol",
  synopsis: "cost [--by agent|model|day|protocol] [--since 7d] [--until TIME]",
  description: [
    "Totals of every model call agents reported, removed agents included. --since and --until",
    "take a duration back from now (7d, 12h, 1d12h) or a time (2026-05-01, 2026-05-01T12:00Z);",
    "days are UTC days. A cost that is unknown (no cost reported, no price for the model) is",
    "not counted as zero: the UNKNOWN column says how many turns it touches.",
  ].join("\n"),
  flags: {
    by: { kind: "string", value: "GROUP", help: "agent, model, day or protocol (agent)" },
    since: { kind: "string", value: "WHEN", help: "from this time on, e.g. 7d (all)" },
    until: { kind: "string", value: "WHEN", help: "before this time (now)" },
    ...URL_FLAG,
    ...JSON_FLAG,
  },
  async run({ flags, positionals }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    const groupBy = usageGroup(flags.by ?? "agent");
    const query = { group_by: groupBy, since: flags.since, until: flags.until };
    const report = await clientFrom(flags).json<UsageReport>("GET", "/usage", { query });
    if (flags.json) printJson(report);
    else process.stdout.write(costTable(report));
    return 0;
  },
});

function usageGroup(value: string): UsageGroup {
  const group = USAGE_GROUPS.find((name) => name === value);
  if (group === undefined) {
    throw new UsageError(`--by takes ${USAGE_GROUPS.join(", ")}, got "${value}"`);
  }
  return group;
}

/** One row per group and a total; a footnote when some cost is unknown. */
export function costTable(report: UsageReport): string {
  const row = (key: string, totals: UsageReport["total"]) => [
    key,
    String(totals.turns),
    String(totals.input_tokens),
    String(totals.output_tokens),
    formatCost(totals.cost_micro_usd),
    totals.unknown_cost_turns > 0 ? `${totals.unknown_cost_turns} turns` : "",
  ];
  const rows = report.groups.map((group) => row(group.key, group));
  rows.push(row("TOTAL", report.total));
  const header = [report.group_by.toUpperCase(), "TURNS", "IN", "OUT", "COST", "UNKNOWN"];
  const lines = [formatTable(header, rows).trimEnd()];
  const window = windowText(report);
  if (window !== "") lines.push(window);
  if (report.total.unknown_cost_turns > 0) {
    lines.push(
      `the cost of ${report.total.unknown_cost_turns} turn(s) is unknown and not in COST: their agents reported none and their model has no price (PUT /prices)`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function windowText(report: UsageReport): string {
  if (report.since === null && report.until === null) return "";
  return `from ${report.since ?? "the start"} until ${report.until ?? "now"}`;
}
