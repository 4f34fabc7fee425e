/**
 * The Server-Sent Events format, read from text as it arrives. The browser's EventSource would
 * do this, but it cannot send an Authorization header; the dashboard reads event streams with
 * fetch instead, and this is the part of EventSource it needs.
 */

export interface ServerSentEvent {
  /** The `id:` of the event, when it had one. */
  id: string | null;
  event: string;
  data: string;
}

export class SseParser {
  private pending = "";
  private id: string | null = null;
  private event = "";
  private data: string[] = [];
  /** The reconnection delay the server asked for (`retry:`), when it did. */
  retryMs: number | null = null;

  /** The events completed by this chunk of text, in order. */
  push(text: string): ServerSentEvent[] {
    this.pending += text;
    const lines = this.pending.split(/\r\n|\r|\n/);
    this.pending = lines.pop() ?? "";
    const events: ServerSentEvent[] = [];
    for (const line of lines) {
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): ServerSentEvent | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.id = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retryMs = Number(value);
    return null;
  }

  private dispatch(): ServerSentEvent | null {
    const data = this.data;
    const event = this.event;
    this.data = [];
    this.event = "";
    if (data.length === 0) return null;
    return { id: this.id, event: event || "message", data: data.join("\n") };
  }
}
