import { useEffect, useState } from "preact/hooks";
import type { StoredEvent } from "../api/events.ts";
import type { AgentView, MessageView, TurnView } from "../api/schemas.ts";
import { AgentActions, type Deletion, describeRemoval } from "./agent-actions.tsx";
import { AgentDetails } from "./agent-details.tsx";
import { type ApiError, asApiError } from "./api.ts";
import { ErrorNote, StatusBadge, StreamIndicator } from "./components.tsx";
import { Conversation } from "./conversation.tsx";
import { useDaemon } from "./daemon.ts";
import { EventList } from "./event-list.tsx";
import { EventStream, type StreamState } from "./event-stream.ts";
import { LogTail } from "./log-tail.tsx";
import { PromptBox } from "./prompt-box.tsx";
import { Refresher } from "./refresher.ts";
import { hrefOf } from "./route.ts";
import { TurnsTable } from "./turns-table.tsx";

/**
 * One agent: what it said and did, its turns, its events as they happen, its log, its
 * workspace, cost and config, and everything one can do to it.
 */

type Part = "agent" | "turns" | "messages";

/** Enough events to show a long conversation's tool calls; older ones the page lets go. */
const EVENTS_KEPT = 20_000;
const TURNS_SHOWN = 50;
const ROUND_MS = 100;

/** Which parts of the page an event makes stale. */
function partsChangedBy(event: StoredEvent): Part[] {
  if (event.type.startsWith("turn.")) return ["turns", "messages", "agent"];
  switch (event.type) {
    case "status":
    case "usage":
    case "budget":
    case "exit":
    case "restart":
    case "session":
    case "removed":
      return ["agent"];
    default:
      return [];
  }
}

interface AgentData {
  agent: AgentView | null;
  turns: TurnView[];
  messages: MessageView[];
  events: StoredEvent[];
  stream: StreamState;
  error: ApiError | null;
  /** The agent was removed (or never was). */
  gone: ApiError | null;
  setAgent(agent: AgentView): void;
}

function useAgentData(id: string): AgentData {
  const { api } = useDaemon();
  const [agent, setAgent] = useState<AgentView | null>(null);
  const [turns, setTurns] = useState<TurnView[]>([]);
  const [messages, setMessages] = useState<MessageView[]>([]);
  const [events, setEvents] = useState<StoredEvent[]>([]);
  const [stream, setStream] = useState<StreamState>({ kind: "connecting" });
  const [error, setError] = useState<ApiError | null>(null);
  const [gone, setGone] = useState<ApiError | null>(null);

  useEffect(() => {
    const path = `/agents/${encodeURIComponent(id)}`;
    const rounds = new Refresher<Part>(async (parts, all) => {
      const wanted = (part: Part) => all || parts.has(part);
      try {
        await Promise.all([
          wanted("agent") && api.get<AgentView>(path).then(setAgent),
          wanted("turns") &&
            api.get<TurnView[]>(`${path}/turns?limit=${TURNS_SHOWN}`).then(setTurns),
          wanted("messages") && api.get<MessageView[]>(`${path}/messages`).then(setMessages),
        ]);
        setError(null);
      } catch (caught) {
        const failure = asApiError(caught);
        if (failure.status === 404) setGone(failure);
        else setError(failure);
      }
    }, ROUND_MS);
    // The stored events first (since=0), then live ones; after a drop, from the last one seen.
    const events = new EventStream(api, `${path}/events?since=0`, {
      onOpen: () => rounds.markAll(),
      onEvents: (batch) => {
        setEvents((current) => {
          const last = current.at(-1)?.seq ?? 0;
          const fresh = batch.filter((event) => event.seq > last);
          return fresh.length === 0 ? current : [...current, ...fresh].slice(-EVENTS_KEPT);
        });
        for (const event of batch) {
          for (const part of partsChangedBy(event)) rounds.mark(part);
        }
      },
      onState: (state) => {
        setStream(state);
        if (state.kind === "stopped" && state.error.status === 404) setGone(state.error);
      },
    });
    events.start();
    return () => {
      events.close();
      rounds.close();
    };
  }, [api, id]);

  return { agent, turns, messages, events, stream, error, gone, setAgent };
}

export function AgentPage({ id }: { id: string }) {
  const data = useAgentData(id);
  const { protocols } = useDaemon();
  const [deletion, setDeletion] = useState<Deletion>({ kind: "none" });
  const { agent } = data;

  if (deletion.kind === "done") {
    const workspace = deletion.result.workspace;
    return (
      <section class="panel" role="status">
        <h1>Deleted {id}</h1>
        {workspace && <p>{describeRemoval(workspace)}</p>}
        <p>
          <a href={hrefOf.overview}>All agents</a>
        </p>
      </section>
    );
  }
  // While it is being deleted, the agent vanishing is what is expected.
  if (data.gone && deletion.kind === "none") {
    return (
      <section class="panel">
        <h1>No agent “{id}”</h1>
        <ErrorNote error={data.gone} />
        <p>
          <a href={hrefOf.overview}>All agents</a>
        </p>
      </section>
    );
  }
  if (!agent) {
    return (
      <section>
        {data.error ? <ErrorNote error={data.error} /> : <p class="muted">Loading {id}…</p>}
      </section>
    );
  }
  const protocol = protocols.find((p) => p.name === agent.protocol) ?? null;
  return (
    <article class="agent-page" aria-labelledby="agent-title">
      <div class="page-head">
        <h1 id="agent-title">
          {agent.name}
          {agent.name !== agent.id && <span class="sub mono"> {agent.id}</span>}
        </h1>
        <StatusBadge status={agent.status} />
        <StreamIndicator state={data.stream} />
      </div>
      {(agent.title || agent.summary) && <p class="lead">{agent.title ?? agent.summary}</p>}
      {data.error && <ErrorNote error={data.error} />}
      <AgentActions agent={agent} onAgent={data.setAgent} onDeletion={setDeletion} />
      <div class="agent-grid">
        <div class="agent-main">
          <PromptBox agent={agent} turns={data.turns} />
          <section class="panel" aria-labelledby="conversation-title">
            <h2 id="conversation-title">Conversation</h2>
            <Conversation messages={data.messages} events={data.events} />
          </section>
          <section class="panel" aria-labelledby="turns-title">
            <h2 id="turns-title">Turns</h2>
            <TurnsTable
              agent={agent}
              turns={data.turns}
              canCancel={protocol?.capabilities.cancel ?? false}
            />
          </section>
          <section class="panel" aria-labelledby="events-title">
            <h2 id="events-title">Events</h2>
            <EventList events={data.events} />
          </section>
          <section class="panel" aria-labelledby="log-title">
            <h2 id="log-title">Log</h2>
            <LogTail agentId={agent.id} startedAt={agent.started_at} />
          </section>
        </div>
        <AgentDetails agent={agent} protocol={protocol} />
      </div>
    </article>
  );
}
