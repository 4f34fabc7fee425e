/** Plain-text layouts for human output: columns and key/value lines, aligned by padding. */

/** Columns separated by two spaces; the last column is not padded, so lines end cleanly. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, column) =>
    Math.max(...all.map((row) => displayWidth(row[column] ?? ""))),
  );
  const lines = all.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : padEnd(cell, widths[column] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
  return `${lines.join("\n")}\n`;
}

/** `key:  value` lines; a value's continuation lines are indented under its first line. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...fields.map(([key]) => key.length + 1));
  const indent = " ".repeat(width + 2);
  const lines = fields.map(
    ([key, value]) => `${`${key}:`.padEnd(width)}  ${value.split("\n").join(`\n${indent}`)}`,
  );
  return `${lines.join("\n")}\n`;
}

/** One line of at most `max` characters, ending in `…` when something was cut. */
export function truncate(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  const chars = [...oneLine];
  return chars.length <= max ? oneLine : `${chars.slice(0, max - 1).join("")}…`;
}

function displayWidth(text: string): number {
  return [...text].length;
}

function padEnd(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - displayWidth(text)));
}
