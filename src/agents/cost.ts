/** Cost is kept as integer micro-USD; cents are derived for clients of the original daemon. */
export function centsOf(microUsd: number | null): number | null {
  return microUsd === null ? null : microUsd / 10_000;
}
