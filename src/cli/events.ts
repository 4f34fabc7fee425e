import type { StoredEvent } from "../api/events.ts";
import { agentPath, resolveAgentId } from "./agent-ref.ts";
import { UsageError, wholeNumber } from "./args.ts";
import { clientFrom, URL_FLAG } from "./client.ts";
import { defineCommand } from "./command.ts";
import { serverSentData } from "./sse.ts";
import { writeStdout } from "./stream.ts";

export const eventsCommand = defineCommand({
  name: "events",
  summary: "print agents' events: the stored ones, or with -f those that happen",
  synopsis: "events [AGENT] [-f] [--since SEQ]",
  description: [
    "Every agent's events, or only AGENT's. Without -f: the stored events after SEQ (0, all",
    "that are kept), then exits. With -f: events as they happen, until interrupted; with",
    "--since, the stored ones after SEQ first. One line per event: SEQ TIME AGENT TYPE DATA.",
  ].join("\n"),
  takesAgent: true,
  flags: {
    follow: { kind: "boolean", short: "f", help: "keep printing events as they happen" },
    since: { kind: "string", value: "SEQ", help: "only events after this seq" },
    json: { kind: "boolean", help: "print each event as the server's JSON, one per line" },
    ...URL_FLAG,
  },
  async run({ flags, positionals }) {
    const [ref, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument: ${extra[0]}`);
    const since = flags.since === undefined ? undefined : wholeNumber("since", flags.since);
    const client = clientFrom(flags);
    const id = ref === undefined ? undefined : await resolveAgentId(client, ref);
    // The stream ends after the stored events only when asked to; by default it stays live.
    const query = flags.follow ? { since } : { since: since ?? 0, follow: 0 };
    const path = id === undefined ? "/events" : `${agentPath(id)}/events`;
    const response = await client.request("GET", path, {
      query,
      mayIdle: flags.follow,
    });
    for await (const data of serverSentData(response)) {
      await writeStdout(flags.json ? `${data}\n` : eventLine(JSON.parse(data) as StoredEvent));
    }
    return 0;
  },
});

function eventLine(event: StoredEvent): string {
  const { seq, created_at, agent_id, type, data } = event;
  return `${seq} ${created_at} ${agent_id} ${type} ${JSON.stringify(data)}\n`;
}
