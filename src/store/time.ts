/** Timestamps are stored as ISO-8601 UTC strings: sortable as text and readable in sqlite3. */
export function nowIso(): string {
  return new Date().toISOString();
}
