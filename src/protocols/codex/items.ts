/**
 * Codex's thread items that are tool uses (commands, file changes, MCP and dynamic tool calls,
 * web searches…), as agentd `tool` events: a call when the item starts, a result when it
 * completes. Messages, reasoning and plans are not tools.
 */

import type { Json } from "../json-rpc.ts";
import type { AgentEvent } from "../session.ts";

const TOOL_ITEMS = new Set([
  "commandExecution",
  "fileChange",
  "mcpToolCall",
  "dynamicToolCall",
  "webSearch",
  "imageView",
  "imageGeneration",
  "collabAgentToolCall",
]);

/** A command's output kept on its result event; the whole of it is in the agent's log. */
const OUTPUT_CHARS = 2000;

export function isToolItem(item: Json): boolean {
  return TOOL_ITEMS.has(item?.type);
}

export function toolEvent(phase: "call" | "result", item: Json): AgentEvent {
  return {
    type: "tool",
    phase,
    name: toolName(item),
    detail: phase === "call" ? callDetail(item) : resultDetail(item),
  };
}

/** The name a tool event gives an item: MCP and dynamic tools by their own names. */
function toolName(item: Json): string {
  switch (item?.type) {
    case "mcpToolCall":
      return `${item.server}.${item.tool}`;
    case "dynamicToolCall":
      return String(item.tool);
    default:
      return String(item?.type ?? "unknown");
  }
}

/** The files a file-change item touches, and how. */
export function changesOf(item: Json): { path: string; kind: string }[] {
  const changes: Json[] = Array.isArray(item?.changes) ? item.changes : [];
  return changes.map((change) => ({
    path: String(change?.path),
    kind: String(change?.kind?.type),
  }));
}

function callDetail(item: Json): unknown {
  switch (item.type) {
    case "commandExecution":
      return { command: item.command, cwd: item.cwd };
    case "fileChange":
      return { changes: changesOf(item) };
    case "mcpToolCall":
    case "dynamicToolCall":
      return { arguments: item.arguments };
    default:
      return { id: item.id };
  }
}

function resultDetail(item: Json): unknown {
  if (item.type !== "commandExecution") return { status: item.status };
  const output = typeof item.aggregatedOutput === "string" ? item.aggregatedOutput : "";
  return {
    status: item.status,
    exit_code: item.exitCode ?? null,
    output: output.length > OUTPUT_CHARS ? `${output.slice(0, OUTPUT_CHARS)}…` : output,
  };
}
