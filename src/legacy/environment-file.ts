/**
 * Read a file in systemd's EnvironmentFile syntax, as systemd does: `KEY=VALUE` lines, `#` and
 * `;` comments, values bare (a backslash escapes the next character, a backslash at the end of a
 * line continues it), in single quotes (literal) or in double quotes (a backslash escapes only
 * `"`, `\`, `` ` ``, `$` and a line break). Later assignments win.
 */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const lineEnd = indexOrEnd(text, "\n", i);
    const line = text.slice(i, lineEnd).trimStart();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) {
      i = lineEnd + 1;
      continue;
    }
    const start = lineEnd - line.length;
    const eq = text.indexOf("=", start);
    if (eq === -1 || eq > lineEnd) {
      i = lineEnd + 1; // Not an assignment: systemd ignores it too.
      continue;
    }
    const key = text.slice(start, eq).trim();
    const { value, end } = readValue(text, eq + 1);
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) env[key] = value;
    i = end + 1;
  }
  return env;
}

/** The value starting at `from`, and the index of the line break (or end) after it. */
function readValue(text: string, from: number): { value: string; end: number } {
  let i = from;
  while (text[i] === " " || text[i] === "\t") i++;
  const quote = text[i];
  if (quote === "'" || quote === '"') {
    const { value, close } = quote === "'" ? singleQuoted(text, i + 1) : doubleQuoted(text, i + 1);
    return { value, end: indexOrEnd(text, "\n", close) };
  }
  return bare(text, i);
}

function singleQuoted(text: string, from: number): { value: string; close: number } {
  const close = indexOrEnd(text, "'", from);
  return { value: text.slice(from, close), close };
}

function doubleQuoted(text: string, from: number): { value: string; close: number } {
  let value = "";
  let i = from;
  for (; i < text.length && text[i] !== '"'; i++) {
    const next = text[i + 1];
    if (text[i] === "\\" && next !== undefined && '"\\`$\n'.includes(next)) {
      if (next !== "\n") value += next;
      i++;
    } else {
      value += text[i];
    }
  }
  return { value, close: i };
}

function bare(text: string, from: number): { value: string; end: number } {
  let value = "";
  let i = from;
  for (; i < text.length && text[i] !== "\n"; i++) {
    if (text[i] === "\\" && i + 1 < text.length) {
      if (text[i + 1] !== "\n") value += text[i + 1];
      i++;
    } else {
      value += text[i];
    }
  }
  return { value: value.trimEnd(), end: i };
}

function indexOrEnd(text: string, search: string, from: number): number {
  const at = text.indexOf(search, from);
  return at === -1 ? text.length : at;
}
