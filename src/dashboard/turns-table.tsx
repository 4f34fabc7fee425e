import { useState } from "preact/hooks";
import { isOpenTurnStatus } from "../agents/status.ts";
import type { AgentView, TurnView } from "../api/schemas.ts";
import { type ApiError, asApiError } from "./api.ts";
import { ErrorNote, StatusBadge } from "./components.tsx";
import { useDaemon } from "./daemon.ts";
import { formatCost, formatCount, formatElapsed, formatTime } from "./format.ts";
import { useNow } from "./hooks.ts";

/** The agent's turns, newest first, with how long each took; open ones can be cancelled where
 * the agent's protocol can interrupt a turn. */
export function TurnsTable({
  agent,
  turns,
  canCancel,
}: {
  agent: AgentView;
  turns: TurnView[];
  canCancel: boolean;
}) {
  const { api } = useDaemon();
  const now = useNow(1_000);
  const [cancelling, setCancelling] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  if (turns.length === 0) return <p class="muted">No turns yet.</p>;

  const cancel = async (turn: TurnView) => {
    setCancelling(turn.id);
    setError(null);
    try {
      await api.post<TurnView>(
        `/agents/${encodeURIComponent(agent.id)}/turns/${encodeURIComponent(turn.id)}/cancel`,
      );
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setCancelling(null);
    }
  };
  return (
    <>
      {error && <ErrorNote error={error} />}
      {!canCancel && turns.some((turn) => isOpenTurnStatus(turn.status)) && (
        <p class="muted small">
          The {agent.protocol} protocol cannot interrupt a turn: stop the agent to end it.
        </p>
      )}
      <table class="turns">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Prompt</th>
            <th scope="col">Started</th>
            <th scope="col" class="num">
              Took
            </th>
            <th scope="col" class="num">
              Tokens in / out
            </th>
            <th scope="col" class="num">
              Cost
            </th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {turns.map((turn) => (
            <tr key={turn.id} data-turn={turn.id}>
              <td data-label="Status">
                <StatusBadge status={turn.status} />
              </td>
              <td data-label="Prompt" class="description" title={turn.input}>
                <div>
                  {turn.input}
                  {turn.error && <div class="turn-error">{turn.error}</div>}
                </div>
              </td>
              <td data-label="Started" title={turn.started_at ?? turn.created_at}>
                {formatTime(turn.started_at ?? turn.created_at, now)}
              </td>
              <td data-label="Took" class="num">
                {took(turn, now)}
              </td>
              <td data-label="Tokens" class="num">
                {formatCount(turn.input_tokens)} / {formatCount(turn.output_tokens)}
              </td>
              <td data-label="Cost" class="num">
                {formatCost(turn.cost_micro_usd)}
              </td>
              <td data-label="">
                {canCancel && isOpenTurnStatus(turn.status) && (
                  <button
                    type="button"
                    class="small"
                    disabled={cancelling === turn.id}
                    onClick={() => void cancel(turn)}
                  >
                    {cancelling === turn.id ? "Cancelling…" : "Cancel turn"}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** From start to end, or so far for a turn still running; a queued turn has not begun. */
function took(turn: TurnView, now: number): string {
  if (turn.started_at === null) return "–";
  const end = turn.completed_at === null ? now : Date.parse(turn.completed_at);
  return formatElapsed(end - Date.parse(turn.started_at));
}
