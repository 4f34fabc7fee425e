import { bodyChunks } from "./stream.ts";

/**
 * The `data:` of each Server-Sent Event in a response, as the events arrive. Comments
 * (heartbeats), `retry:` and blocks without data are skipped; the daemon ends lines with `\n`.
 */
export async function* serverSentData(response: Response): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of bodyChunks(response)) {
    pending += decoder.decode(chunk, { stream: true });
    const blocks = pending.split("\n\n");
    pending = blocks.pop() ?? "";
    for (const block of blocks) {
      const data = dataOf(block);
      if (data !== null) yield data;
    }
  }
}

/** A block's data lines joined with newlines, as the SSE format says; null when it has none. */
function dataOf(block: string): string | null {
  const lines = block
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice("data:".length).replace(/^ /, ""));
  return lines.length === 0 ? null : lines.join("\n");
}
