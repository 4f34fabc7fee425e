import type { ComponentChildren } from "preact";
import type { AgentStatus, TurnStatus } from "../agents/status.ts";
import type { ApiError } from "./api.ts";
import type { StreamState } from "./event-stream.ts";

/** Small pieces every page uses. */

/** A status in its colour and in words: the colour is never the only sign. */
export function StatusBadge({ status }: { status: AgentStatus | TurnStatus }) {
  return (
    <span class={`badge status-${status}`} data-status={status}>
      <span class="dot" aria-hidden="true" />
      {status}
    </span>
  );
}

/** What the daemon said, as it said it; details it gave, folded away. */
export function ErrorNote({ error, children }: { error: ApiError; children?: ComponentChildren }) {
  return (
    <div class="error-note" role="alert">
      <p>
        <strong>{error.status === 0 ? "Unreachable" : `Error ${error.status}`}:</strong>{" "}
        <span class="error-message">{error.message}</span>
      </p>
      {children}
      {error.details !== undefined && !children && (
        <details>
          <summary>Details</summary>
          <pre>{JSON.stringify(error.details, null, 2)}</pre>
        </details>
      )}
    </div>
  );
}

/** Whether the page is following the daemon's events right now. */
export function StreamIndicator({ state }: { state: StreamState }) {
  const text = ((): string => {
    switch (state.kind) {
      case "connecting":
        return "connecting…";
      case "live":
        return state.reconnects === 0 ? "live" : `live · reconnected ${state.reconnects}×`;
      case "reconnecting":
        return `reconnecting${state.error ? ` (${state.error.message})` : ""}…`;
      case "stopped":
        return `not following: ${state.error.message}`;
    }
  })();
  return (
    <span class={`stream stream-${state.kind}`} role="status" aria-live="polite">
      <span class="dot" aria-hidden="true" />
      {text}
    </span>
  );
}

/** Labelled values, one per row; a value left out is shown as a dash. */
export function Fields({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="fields">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>
            {value === null || value === undefined || value === false || value === "" ? "–" : value}
          </dd>
        </div>
      ))}
    </dl>
  );
}
