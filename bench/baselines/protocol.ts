/**
 * The baseline programs' side of ../lib/line-child.ts: one JSON object per line on stdout —
 * first a ready line, then one answer per request line read from stdin.
 */

type Json = Record<string, unknown>;

export function say(value: Json): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Say `ready`, then answer each request with `handle`'s result (or its error) until stdin closes. */
export async function serve(ready: Json, handle: (request: Json) => Promise<Json>): Promise<void> {
  say(ready);
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of Bun.stdin.stream()) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() === "") continue;
      try {
        say(await handle(JSON.parse(line)));
      } catch (error) {
        say({ error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
}
