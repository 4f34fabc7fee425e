let lastMs = Number.NaN;
let lastIso = "";

/**
 * Timestamps are stored as ISO-8601 UTC strings: sortable as text and readable in sqlite3.
 * Made once per millisecond: a batch of events stored at once shares it.
 */
export function nowIso(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
