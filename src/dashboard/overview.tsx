import { useEffect, useMemo, useState } from "preact/hooks";
import { AGENT_MODES, AGENT_STATUSES, type AgentStatus } from "../agents/status.ts";
import type { UsageReport } from "../api/cost.ts";
import type { StoredEvent } from "../api/events.ts";
import type { AgentView } from "../api/schemas.ts";
import { type ApiError, asApiError } from "./api.ts";
import { ErrorNote, StatusBadge, StreamIndicator } from "./components.tsx";
import { useDaemon } from "./daemon.ts";
import { EventStream, type StreamState } from "./event-stream.ts";
import {
  agentDescription,
  formatCost,
  formatCount,
  formatDuration,
  searchText,
  since,
  startOfToday,
  turnTotal,
} from "./format.ts";
import { useNow } from "./hooks.ts";
import { Refresher } from "./refresher.ts";
import { hrefOf } from "./route.ts";

/**
 * Every agent, kept current by the daemon's event stream: an event about an agent makes the
 * page read that agent again; each (re)connection reads the whole list, which also drops
 * agents removed while the page was not following.
 */

type UsageTotals = UsageReport["total"];

interface Filter {
  status: AgentStatus | "";
  mode: string;
  text: string;
}

const AGENT_ROUND_MS = 250;
const USAGE_ROUND_MS = 1_000;
/** More agents than this changed at once: one read of the list is cheaper than one each. */
const READ_ONE_BY_ONE = 5;

/** Events that change what a row shows; tool calls, logs and model calls do not. */
function changesRow(event: StoredEvent): boolean {
  return (
    event.type === "status" ||
    event.type === "usage" ||
    event.type === "budget" ||
    event.type === "restart" ||
    event.type === "removed" ||
    event.type.startsWith("turn.")
  );
}

export function Overview() {
  const { api } = useDaemon();
  const [agents, setAgents] = useState<ReadonlyMap<string, AgentView>>(new Map());
  const [loaded, setLoaded] = useState(false);
  const [usage, setUsage] = useState<{ today: UsageTotals; overall: UsageTotals } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [stream, setStream] = useState<StreamState>({ kind: "connecting" });
  const [filter, setFilter] = useState<Filter>({ status: "", mode: "", text: "" });
  const now = useNow(5_000);

  useEffect(() => {
    const agentRounds = new Refresher<string>(async (ids, all) => {
      try {
        if (all || ids.size > READ_ONE_BY_ONE) {
          const list = await api.all<AgentView>("/agents");
          setAgents(new Map(list.map((agent) => [agent.id, agent])));
          setLoaded(true);
        } else {
          const answers = await Promise.all([...ids].map((id) => agentOrGone(id)));
          setAgents((current) => {
            const next = new Map(current);
            for (const [id, agent] of answers) {
              if (agent === null) next.delete(id);
              else next.set(id, agent);
            }
            return next;
          });
        }
        setError(null);
      } catch (caught) {
        setError(asApiError(caught));
      }
    }, AGENT_ROUND_MS);
    const agentOrGone = async (id: string): Promise<[string, AgentView | null]> => {
      try {
        return [id, await api.get<AgentView>(`/agents/${encodeURIComponent(id)}`)];
      } catch (caught) {
        if (asApiError(caught).status === 404) return [id, null];
        throw caught;
      }
    };
    const usageRounds = new Refresher<never>(async () => {
      try {
        const [today, overall] = await Promise.all([
          api.get<UsageReport>(`/usage?since=${encodeURIComponent(startOfToday(Date.now()))}`),
          api.get<UsageReport>("/usage"),
        ]);
        setUsage({ today: today.total, overall: overall.total });
      } catch (caught) {
        setError(asApiError(caught));
      }
    }, USAGE_ROUND_MS);
    const events = new EventStream(api, "/events", {
      onOpen: () => {
        agentRounds.markAll();
        usageRounds.markAll();
      },
      onEvents: (batch) => {
        for (const event of batch) {
          if (changesRow(event)) agentRounds.mark(event.agent_id);
          if (event.type === "usage") usageRounds.markAll();
        }
      },
      onState: setStream,
    });
    events.start();
    return () => {
      events.close();
      agentRounds.close();
      usageRounds.close();
    };
  }, [api]);

  const all = useMemo(
    () => [...agents.values()].sort((a, b) => b.created_at.localeCompare(a.created_at)),
    [agents],
  );
  const shown = all.filter((agent) => matches(agent, filter));

  return (
    <section aria-labelledby="overview-title">
      <div class="page-head">
        <h1 id="overview-title">Agents</h1>
        <StreamIndicator state={stream} />
        <a class="button" href={hrefOf.create}>
          New agent
        </a>
      </div>
      {error && <ErrorNote error={error} />}
      <Totals agents={all} usage={usage} filter={filter} onFilter={setFilter} />
      <Filters filter={filter} onFilter={setFilter} />
      {!loaded ? (
        <p class="muted">Loading agents…</p>
      ) : shown.length === 0 ? (
        <p class="empty">
          {all.length === 0 ? (
            <>
              No agents yet. <a href={hrefOf.create}>Create one</a>.
            </>
          ) : (
            "No agent matches these filters."
          )}
        </p>
      ) : (
        <AgentTable agents={shown} now={now} />
      )}
    </section>
  );
}

function matches(agent: AgentView, filter: Filter): boolean {
  if (filter.status !== "" && agent.status !== filter.status) return false;
  if (filter.mode !== "" && agent.mode !== filter.mode) return false;
  const words = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
  const text = searchText(agent);
  return words.every((word) => text.includes(word));
}

function Totals({
  agents,
  usage,
  filter,
  onFilter,
}: {
  agents: AgentView[];
  usage: { today: UsageTotals; overall: UsageTotals } | null;
  filter: Filter;
  onFilter: (filter: Filter) => void;
}) {
  const counts = new Map<AgentStatus, number>();
  for (const agent of agents) counts.set(agent.status, (counts.get(agent.status) ?? 0) + 1);
  const unknown = usage?.overall.unknown_cost_turns ?? 0;
  return (
    <div class="totals">
      <dl class="figures">
        <div>
          <dt>Agents</dt>
          <dd data-total="agents">{agents.length}</dd>
        </div>
        <div>
          <dt>Cost today</dt>
          <dd data-total="cost-today">
            {usage ? formatCost(usage.today.cost_micro_usd ?? 0) : "…"}
          </dd>
        </div>
        <div>
          <dt>Cost overall</dt>
          <dd data-total="cost-overall">
            {usage ? formatCost(usage.overall.cost_micro_usd ?? 0) : "…"}
          </dd>
        </div>
      </dl>
      {unknown > 0 && (
        <p class="muted small">
          {unknown} turn{unknown === 1 ? "" : "s"} of unknown cost are not counted.
        </p>
      )}
      <fieldset class="status-counts">
        <legend class="visually-hidden">Agents by status (choose one to show only those)</legend>
        {AGENT_STATUSES.filter((status) => counts.has(status)).map((status) => (
          <button
            key={status}
            type="button"
            class="chip"
            aria-pressed={filter.status === status}
            onClick={() => onFilter({ ...filter, status: filter.status === status ? "" : status })}
          >
            <StatusBadge status={status} /> <span class="count">{counts.get(status)}</span>
          </button>
        ))}
      </fieldset>
    </div>
  );
}

function Filters({ filter, onFilter }: { filter: Filter; onFilter: (filter: Filter) => void }) {
  return (
    <div class="filters">
      <label>
        <span class="visually-hidden">Search agents</span>
        <input
          type="search"
          placeholder="Search: id, name, title, model, path…"
          value={filter.text}
          onInput={(event) => onFilter({ ...filter, text: event.currentTarget.value })}
        />
      </label>
      <label>
        <span class="visually-hidden">Status</span>
        <select
          value={filter.status}
          onChange={(event) =>
            onFilter({ ...filter, status: event.currentTarget.value as AgentStatus | "" })
          }
        >
          <option value="">every status</option>
          {AGENT_STATUSES.map((status) => (
            <option key={status} value={status}>
              {status}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span class="visually-hidden">Mode</span>
        <select
          value={filter.mode}
          onChange={(event) => onFilter({ ...filter, mode: event.currentTarget.value })}
        >
          <option value="">every mode</option>
          {AGENT_MODES.map((mode) => (
            <option key={mode} value={mode}>
              {mode}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

function AgentTable({ agents, now }: { agents: AgentView[]; now: number }) {
  return (
    <table class="agents">
      <thead>
        <tr>
          <th scope="col">Status</th>
          <th scope="col">Agent</th>
          <th scope="col">Title / summary</th>
          <th scope="col">Mode</th>
          <th scope="col">Protocol</th>
          <th scope="col">Model</th>
          <th scope="col" class="num">
            Turns
          </th>
          <th scope="col" class="num">
            Tokens in / out
          </th>
          <th scope="col" class="num">
            Cost
          </th>
          <th scope="col">Workspace</th>
          <th scope="col" class="num">
            Age
          </th>
        </tr>
      </thead>
      <tbody>
        {agents.map((agent) => (
          <tr key={agent.id} data-agent={agent.id}>
            <td data-label="Status">
              <StatusBadge status={agent.status} />
            </td>
            <td data-label="Agent" class="agent-cell">
              <div>
                <a href={hrefOf.agent(agent.id)}>{agent.name}</a>
                {agent.name !== agent.id && <div class="sub mono">{agent.id}</div>}
              </div>
            </td>
            <td data-label="Title" class="description" title={agentDescription(agent)}>
              <div>
                {agentDescription(agent) || <span class="muted">–</span>}
                {agent.error && <div class="turn-error">{agent.error}</div>}
              </div>
            </td>
            <td data-label="Mode">{agent.mode}</td>
            <td data-label="Protocol">{agent.protocol}</td>
            <td data-label="Model">{agent.model}</td>
            <td data-label="Turns" class="num">
              {turnTotal(agent)}
            </td>
            <td data-label="Tokens" class="num">
              {formatCount(agent.input_tokens)} / {formatCount(agent.output_tokens)}
            </td>
            <td data-label="Cost" class="num">
              {formatCost(agent.cost_micro_usd)}
            </td>
            <td data-label="Workspace" class="workspace" title={agent.cwd}>
              <WorkspaceCell agent={agent} />
            </td>
            <td data-label="Age" class="num" title={agent.created_at}>
              {formatDuration(since(agent.created_at, now))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function WorkspaceCell({ agent }: { agent: AgentView }) {
  const workspace = agent.workspace;
  if (!workspace) return <span class="mono">{lastPart(agent.cwd)}</span>;
  return (
    <span>
      <span class="kind">{workspace.kind}</span>{" "}
      <span class="mono">
        {workspace.kind === "worktree" && workspace.branch
          ? workspace.branch
          : lastPart(workspace.path)}
      </span>
    </span>
  );
}

function lastPart(path: string): string {
  return path.replace(/\/+$/, "").split("/").pop() || path;
}
