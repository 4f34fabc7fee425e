/** Cost is kept as integer micro-USD; cents are derived for clients of the original daemon. */
export function centsOf(microUsd: number | null): number | null {
  return microUsd === null ? null : microUsd / 10_000;
}

/** What usage totals can be grouped by (`GET /usage?group_by=`). */
export const USAGE_GROUPS = ["agent", "model", "day", "protocol"] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];
