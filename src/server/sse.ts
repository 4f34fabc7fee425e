import type { StoredEvent } from "../api/events.ts";
import type { EventSubscription } from "../events/subscription.ts";
import { log } from "../log.ts";
import { streamingResponse } from "./streaming.ts";

export const HEARTBEAT_MS = 15_000;

const encoder = new TextEncoder();

/** One Server-Sent Event: `id:` is the seq, `event:` the type, `data:` the JSON. */
export function formatEvent(event: StoredEvent): string {
  const data = JSON.stringify({
    seq: event.seq,
    agent_id: event.agent_id,
    type: event.type,
    data: event.data,
    created_at: event.created_at,
  });
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${data}\n\n`;
}

/**
 * Stream a subscription as SSE. The stream pulls as the client reads; a comment every
 * heartbeat interval keeps idle proxies from closing it.
 */
export function sseResponse(
  subscribe: (onOverflow: () => void) => EventSubscription,
  heartbeatMs = HEARTBEAT_MS,
): Response {
  let subscription: EventSubscription;
  // A heartbeat can fire while events are still awaited; that wait carries over to the next pull.
  let waiting: Promise<StoredEvent[]> | null = null;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      // A subscriber too far behind is cut off at once, even while it is not reading at all.
      // Erroring the stream aborts the connection; with no reason given Bun prints nothing (an
      // Error would be printed with its stack), so the one line about it is ours.
      subscription = subscribe(() => {
        log.warn(
          "event stream cut off: its client fell further behind than AGENTD_SSE_BUFFER events (it can resume with Last-Event-ID)",
        );
        controller.error();
      });
      controller.enqueue(encoder.encode("retry: 1000\n: connected\n\n"));
    },
    async pull(controller) {
      waiting ??= subscription.next();
      let timer: Timer | undefined;
      const heartbeat = new Promise<"heartbeat">((resolve) => {
        timer = setTimeout(() => resolve("heartbeat"), heartbeatMs);
      });
      const first = await Promise.race([waiting, heartbeat]);
      clearTimeout(timer);
      if (first === "heartbeat") {
        controller.enqueue(encoder.encode(": heartbeat\n\n"));
        return;
      }
      waiting = null;
      if (first.length > 0) {
        controller.enqueue(encoder.encode(first.map(formatEvent).join("")));
        return;
      }
      // Ended: closed by the client, or cut off (the stream is then already errored).
      if (!subscription.overflowed) controller.close();
    },
    cancel() {
      subscription.close();
    },
  });
  return streamingResponse(stream, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
  });
}
