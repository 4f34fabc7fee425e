export interface SseEvent {
  id: number;
  event: string;
  data: { seq: number; agent_id: string; type: string; data: Record<string, unknown> };
}

/**
 * Read Server-Sent Events from a URL until `until` returns true for the events so far.
 * Returns them (and closes the connection).
 */
export async function readEvents(
  url: string,
  until: (events: SseEvent[]) => boolean,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<SseEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const events: SseEvent[] = [];
  try {
    const response = await fetch(url, { headers, signal: controller.signal });
    if (!response.ok || !response.body) throw new Error(`SSE ${url} answered ${response.status}`);
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of response.body) {
      text += decoder.decode(chunk, { stream: true });
      let end = text.indexOf("\n\n");
      while (end !== -1) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const event = parseBlock(block);
        if (event) events.push(event);
        if (until(events)) return events;
        end = text.indexOf("\n\n");
      }
    }
    throw new Error(`stream ended after ${events.length} events without the expected ones`);
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

function parseBlock(block: string): SseEvent | null {
  const fields: Record<string, string> = {};
  for (const line of block.split("\n")) {
    if (line.startsWith(":") || !line.includes(":")) continue;
    const colon = line.indexOf(":");
    fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
  }
  if (fields.id === undefined || fields.data === undefined) return null;
  return { id: Number(fields.id), event: fields.event ?? "message", data: JSON.parse(fields.data) };
}
