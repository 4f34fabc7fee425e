/**
 * agentd's permission gate for pi, a pi extension. pi has no permission prompts of its own: it
 * runs every tool it offers the model. Loaded with `pi --extension <this file>` (agentd writes
 * it to its driver files directory), it asks before every tool that is not one of pi's reading
 * tools. In RPC mode `ctx.ui.confirm` reaches agentd as an `extension_ui_request` (method
 * "confirm"), which the agent's session answers by its permission policy and records; until
 * then the tool waits. A refusal blocks the tool, and the model is told so.
 *
 * pi loads this file with jiti under Node: it imports nothing, and its types are its own. agentd
 * embeds it as text (src/protocols/pi.ts); nothing in agentd imports it as code.
 */

/** pi's built-in tools that only read: they run without asking. */
const READING_TOOLS = new Set(["read", "grep", "find", "ls"]);

/** The question's message says whose it is, so agentd tells it from other extensions' dialogs. */
const GATE_QUESTION = "agentd-permission";

interface ToolCallEvent {
  toolName: string;
  input: unknown;
}

interface ExtensionContext {
  ui: { confirm(title: string, message: string): Promise<boolean> };
}

type ToolCallResult = { block: true; reason: string } | undefined;

interface ExtensionApi {
  on(
    event: "tool_call",
    handler: (event: ToolCallEvent, ctx: ExtensionContext) => Promise<ToolCallResult>,
  ): void;
}

export default function agentdPermissionGate(pi: ExtensionApi): void {
  pi.on("tool_call", async (event, ctx) => {
    if (READING_TOOLS.has(event.toolName)) return undefined;
    const question = JSON.stringify({
      question: GATE_QUESTION,
      tool: event.toolName,
      input: event.input,
    });
    const allowed = await ctx.ui.confirm(`Allow ${event.toolName}?`, question);
    if (allowed) return undefined;
    return { block: true, reason: `agentd's permission policy denied ${event.toolName}` };
  });
}
