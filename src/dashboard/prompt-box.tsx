import { useState } from "preact/hooks";
import { isOpenTurnStatus } from "../agents/status.ts";
import type { AgentView, SendResult, TurnView } from "../api/schemas.ts";
import { type ApiError, asApiError } from "./api.ts";
import { ErrorNote, StatusBadge } from "./components.tsx";
import { useDaemon } from "./daemon.ts";

/**
 * A prompt for the agent: sent as a turn, whose answer shows here once the turn ends (the page
 * learns of it from the agent's events, and reads the turn again).
 */
export function PromptBox({ agent, turns }: { agent: AgentView; turns: TurnView[] }) {
  const { api } = useDaemon();
  const [message, setMessage] = useState("");
  const [sending, setSending] = useState(false);
  const [sent, setSent] = useState<{ turnId: string; input: string } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const send = async () => {
    const text = message.trim();
    if (text === "" || sending) return;
    setSending(true);
    setError(null);
    try {
      const result = await api.post<SendResult>(`/agents/${encodeURIComponent(agent.id)}/send`, {
        message: text,
      });
      setSent({ turnId: result.turn_id, input: text });
      setMessage("");
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setSending(false);
    }
  };
  const turn = sent && turns.find((candidate) => candidate.id === sent.turnId);

  return (
    <section class="panel prompt-box" aria-labelledby="prompt-title">
      <h2 id="prompt-title">Prompt</h2>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void send();
        }}
      >
        <label for="prompt" class="visually-hidden">
          Prompt for {agent.name}
        </label>
        <textarea
          id="prompt"
          rows={3}
          placeholder={`Ask ${agent.name}… (Enter sends, Shift+Enter for a new line)`}
          value={message}
          onInput={(event) => setMessage(event.currentTarget.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
              event.preventDefault();
              void send();
            }
          }}
        />
        <button type="submit" disabled={sending || message.trim() === ""}>
          {sending ? "Sending…" : "Send"}
        </button>
      </form>
      {error && <ErrorNote error={error} />}
      {sent && (
        <div class="answer" aria-live="polite" data-turn={sent.turnId}>
          <div class="answer-head">
            <span class="mono">{sent.turnId}</span>
            {turn ? <StatusBadge status={turn.status} /> : <span class="muted">sent</span>}
          </div>
          {!turn || isOpenTurnStatus(turn.status) ? (
            <p class="muted">Waiting for the answer…</p>
          ) : turn.status === "completed" ? (
            <div class="message-text answer-text">{turn.response ?? "(no answer text)"}</div>
          ) : (
            <p class="turn-error">{turn.error ?? `the turn ended ${turn.status}`}</p>
          )}
        </div>
      )}
    </section>
  );
}
