import { useMemo, useRef } from "preact/hooks";
import type { StoredEvent } from "../api/events.ts";
import type { MessageView } from "../api/schemas.ts";
import { useStickToBottom } from "./hooks.ts";
import { type ToolEvent, toolCallsByTurn } from "./tool-calls.ts";

/**
 * The conversation: the prompts and the answers, and between them the tool calls the agent made
 * for that turn, folded away.
 */

export function Conversation({
  messages,
  events,
}: {
  messages: MessageView[];
  events: StoredEvent[];
}) {
  const box = useRef<HTMLOListElement>(null);
  const tools = useMemo(() => toolCallsByTurn(events), [events]);
  useStickToBottom(box, [messages, tools]);
  if (messages.length === 0) return <p class="muted">No messages yet.</p>;

  const placed = new Set<string>();
  const toolsOf = (turnId: string | null) => {
    if (turnId === null || placed.has(turnId)) return null;
    const calls = tools.get(turnId);
    if (!calls) return null;
    placed.add(turnId);
    return <ToolCalls key={`tools-${turnId}`} calls={calls} />;
  };
  return (
    <ol class="conversation" ref={box}>
      {messages.map((message, index) => {
        const item = (
          <li key={`${index}-${message.created_at}`} class={`message ${message.role}`}>
            <div class="message-role">{message.role === "user" ? "prompt" : "agent"}</div>
            <div class="message-text">{message.content}</div>
          </li>
        );
        // A turn's tool calls come after its prompt, or before its answer if no prompt is shown.
        return message.role === "user"
          ? [item, toolsOf(message.turn_id)]
          : [toolsOf(message.turn_id), item];
      })}
    </ol>
  );
}

function ToolCalls({ calls }: { calls: ToolEvent[] }) {
  const called = calls.filter((call) => call.phase === "call");
  const names = [...new Set(called.map((call) => call.name))];
  return (
    <li class="tool-calls">
      <details>
        <summary>
          {called.length} tool call{called.length === 1 ? "" : "s"}
          {names.length > 0 && <span class="muted">: {names.join(", ")}</span>}
        </summary>
        <ol>
          {calls.map((call) => (
            <li key={call.seq} class={`tool-${call.phase}`}>
              <span class="mono">
                {call.phase === "call" ? "→" : "←"} {call.name}
              </span>
              {call.detail !== undefined && <pre>{detailText(call.detail)}</pre>}
            </li>
          ))}
        </ol>
      </details>
    </li>
  );
}

const DETAIL_CHARS = 4000;

function detailText(detail: unknown): string {
  const text = typeof detail === "string" ? detail : JSON.stringify(detail, null, 2);
  return text.length > DETAIL_CHARS ? `${text.slice(0, DETAIL_CHARS)}…` : text;
}
