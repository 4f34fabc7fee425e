/**
 * Captured wire transcripts: with INTEROP_TRANSCRIPTS=1, a test's CLI conversation is written to
 * `interop/transcripts/<cli>-<scenario>.jsonl`, one `{"in": …}` or `{"out": …}` per line, with
 * long strings and lists shortened so the files stay small enough to read and commit.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CliProcess } from "./cli-process.ts";

const DIR = join(import.meta.dir, "../transcripts");
const MAX_STRING = 300;
const KEEP_STRING = 120;
const MAX_ITEMS = 12;

export function saveTranscript(cli: CliProcess, scenario: string): void {
  if (process.env.INTEROP_TRANSCRIPTS !== "1") return;
  mkdirSync(DIR, { recursive: true });
  const lines = cli.wire.map((line) =>
    JSON.stringify({ [line.direction]: shorten(line.json ?? line.text) }),
  );
  writeFileSync(join(DIR, `${cli.name}-${scenario}.jsonl`), `${lines.join("\n")}\n`);
}

function shorten(value: unknown): unknown {
  if (typeof value === "string") {
    return value.length > MAX_STRING
      ? `${value.slice(0, KEEP_STRING)}…[${value.length - KEEP_STRING} more chars]`
      : value;
  }
  if (Array.isArray(value)) {
    const kept = value.slice(0, MAX_ITEMS).map(shorten);
    return value.length > MAX_ITEMS ? [...kept, `…[${value.length - MAX_ITEMS} more items]`] : kept;
  }
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shorten(item)]));
  }
  return value;
}
