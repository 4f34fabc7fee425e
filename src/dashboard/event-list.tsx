import { useRef } from "preact/hooks";
import type { StoredEvent } from "../api/events.ts";
import { describeEvent, formatTime } from "./format.ts";
import { useNow, useStickToBottom } from "./hooks.ts";

/** How many of the latest events are on the page; the daemon keeps more (`agentd events`). */
const EVENTS_SHOWN = 300;

/** The agent's events as they happen, oldest at the top, following the newest. */
export function EventList({ events }: { events: StoredEvent[] }) {
  const box = useRef<HTMLOListElement>(null);
  const now = useNow(60_000);
  const shown = events.slice(-EVENTS_SHOWN);
  useStickToBottom(box, shown);
  if (shown.length === 0) return <p class="muted">No events yet.</p>;
  return (
    <>
      {events.length > shown.length && (
        <p class="muted small">
          The latest {shown.length} of {events.length} events.
        </p>
      )}
      <ol class="events" ref={box}>
        {shown.map((event) => (
          <li
            key={event.seq}
            data-seq={event.seq}
            class={`event event-${event.type.replace(".", "-")}`}
          >
            <time dateTime={event.created_at}>{formatTime(event.created_at, now)}</time>
            <span class="event-type">{event.type}</span>
            <span class="event-text">{describeEvent(event)}</span>
          </li>
        ))}
      </ol>
    </>
  );
}
