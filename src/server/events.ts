import { Elysia, type Static, t } from "elysia";
import { BadRequestError } from "../errors.ts";
import type { AppContext } from "./context.ts";
import { isOn, QueryFlag, QueryInteger } from "./query.ts";
import { sseResponse } from "./sse.ts";

const StreamQuery = t.Object({
  since: t.Optional(QueryInteger("since", 0)),
  follow: t.Optional(QueryFlag),
});

const STREAM_DESCRIPTION =
  "Server-Sent Events: `id:` is the event seq, `event:` its type, `data:` one StoredEvent as JSON (schema below: one shape per event type). With Last-Event-ID (or ?since=SEQ) stored events after it are replayed first, then live ones; with follow=0 the stream ends after the replay.";

/** The stream's payloads in the OpenAPI document (the route itself returns a raw stream). */
const STREAM_RESPONSES = {
  200: {
    description: "An event stream",
    content: { "text/event-stream": { schema: { $ref: "#/components/schemas/StoredEvent" } } },
  },
};

/** Event streams for one agent and for all of them. */
export function eventRoutes(ctx: AppContext) {
  const stream = (
    agentId: string | undefined,
    headers: Record<string, string | undefined>,
    query: Static<typeof StreamQuery>,
  ) => {
    const after = resumePoint(headers["last-event-id"], query.since) ?? ctx.events.latestSeq();
    const follow = query.follow === undefined || isOn(query.follow);
    return sseResponse((onOverflow) =>
      ctx.events.open({ agentId, after, follow, maxBuffered: ctx.config.sseBuffer, onOverflow }),
    );
  };
  return new Elysia({ tags: ["events"] })
    .get("/events", ({ headers, query }) => stream(undefined, headers, query), {
      query: StreamQuery,
      detail: {
        summary: "Every agent's events, live",
        description: STREAM_DESCRIPTION,
        responses: STREAM_RESPONSES,
      },
    })
    .get(
      "/agents/:id/events",
      ({ params, headers, query }) => {
        ctx.agents.get(params.id);
        return stream(params.id, headers, query);
      },
      {
        params: t.Object({ id: t.String() }),
        query: StreamQuery,
        detail: {
          summary: "One agent's events, live",
          description: STREAM_DESCRIPTION,
          responses: STREAM_RESPONSES,
        },
      },
    );
}

/** Where a stream resumes: Last-Event-ID (a reconnecting client) wins over ?since=. */
function resumePoint(
  lastEventId: string | undefined,
  since: number | undefined,
): number | undefined {
  if (lastEventId === undefined || lastEventId === "") return since;
  if (!/^\d+$/.test(lastEventId)) {
    throw new BadRequestError(
      `Last-Event-ID must be an event seq (a whole number), got "${lastEventId}"`,
    );
  }
  return Number(lastEventId);
}
