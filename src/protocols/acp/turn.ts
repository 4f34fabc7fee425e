import type { Json } from "../json-rpc.ts";
import type { AgentEvent, Prompt } from "../session.ts";

/**
 * One prompt under way: the answer as it streams in `agent_message_chunk` updates, and the
 * tool calls it makes (`tool_call`, `tool_call_update`), each reported once as a call and once
 * as a result.
 */
export class ActiveTurn {
  /** `session/cancel` was sent: permission requests are answered `cancelled` from now on. */
  cancelling = false;
  private readonly parts: string[] = [];
  private lastMessageId: string | undefined;
  /** A tool ran since the last text: the next text starts a new message. */
  private afterTool = false;
  private readonly tools = new Map<string, Json>();
  private readonly finished = new Set<string>();

  constructor(readonly prompt: Prompt) {}

  get turnId(): string {
    return this.prompt.turn_id;
  }

  /** Text of the agent's answer; messages are set apart by a blank line. */
  chunk(update: Json): void {
    const text = update?.content?.type === "text" ? update.content.text : undefined;
    if (typeof text !== "string" || text === "") return;
    const messageId = typeof update.messageId === "string" ? update.messageId : undefined;
    const otherMessage =
      messageId !== undefined &&
      this.lastMessageId !== undefined &&
      messageId !== this.lastMessageId;
    if ((this.afterTool || otherMessage) && this.parts.length > 0) this.parts.push("\n\n");
    this.parts.push(text);
    this.lastMessageId = messageId;
    this.afterTool = false;
  }

  /** The answer so far; null when the agent said nothing. */
  response(): string | null {
    return this.parts.length === 0 ? null : this.parts.join("");
  }

  /** The events a `tool_call` or `tool_call_update` means. */
  tool(update: Json): AgentEvent[] {
    const id = update?.toolCallId;
    if (typeof id !== "string") return [];
    const known = this.tools.get(id);
    const call = { ...known, ...definedFields(update) };
    this.tools.set(id, call);
    this.afterTool = true;
    const events: AgentEvent[] = [];
    if (known === undefined) {
      events.push({
        type: "tool",
        phase: "call",
        name: kindOf(call),
        detail: { tool_call_id: id, title: call.title, input: call.rawInput },
      });
    }
    if ((call.status === "completed" || call.status === "failed") && !this.finished.has(id)) {
      this.finished.add(id);
      events.push({
        type: "tool",
        phase: "result",
        name: kindOf(call),
        detail: {
          tool_call_id: id,
          title: call.title,
          status: call.status,
          output: outputOf(call),
        },
      });
    }
    return events;
  }

  /** What the turn has heard of a tool call so far. */
  toolCall(id: unknown): Json | undefined {
    return typeof id === "string" ? this.tools.get(id) : undefined;
  }
}

/** The kind of a tool call a permission request names: its own, or the one reported before. */
export function toolKind(toolCall: Json, turn: ActiveTurn | null): string {
  return kindOf({ ...turn?.toolCall(toolCall?.toolCallId), ...definedFields(toolCall) });
}

/** ACP's default kind is `other`. */
function kindOf(call: Json): string {
  return typeof call?.kind === "string" ? call.kind : "other";
}

/** An update carries only what changed: absent fields keep their earlier values. */
function definedFields(update: Json): Json {
  if (typeof update !== "object" || update === null) return {};
  return Object.fromEntries(Object.entries(update).filter(([, value]) => value != null));
}

function outputOf(call: Json): unknown {
  if (call.rawOutput !== undefined) return call.rawOutput;
  if (!Array.isArray(call.content)) return undefined;
  const texts = call.content
    .map((item: Json) => (item?.type === "content" ? item.content?.text : undefined))
    .filter((text: unknown) => typeof text === "string");
  return texts.length > 0 ? texts.join("") : undefined;
}
