/** Durations as people write them on a command line: `7d`, `12h`, `1d12h`. */

const UNIT_MS: Record<string, number> = {
  w: 7 * 24 * 3_600_000,
  d: 24 * 3_600_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
};

/** `2w`, `7d`, `12h`, `90m`, `30s` or a sequence of them (`1d12h`) in milliseconds; else null. */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim();
  const parts = [...trimmed.matchAll(/(\d+)([wdhms])/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join("") !== trimmed) return null;
  const ms = parts.reduce(
    (sum, [, amount, unit]) => sum + Number(amount) * (UNIT_MS[unit as string] as number),
    0,
  );
  return Number.isSafeInteger(ms) ? ms : null;
}

/** In the largest unit that divides it: 604800000 -> `1w`, 36 hours -> `36h`. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
