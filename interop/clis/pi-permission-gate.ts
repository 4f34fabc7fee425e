/**
 * A pi extension that asks before every tool that can change things (bash, edit, write): pi has
 * no permission prompts of its own, but an extension's `ctx.ui.confirm` reaches an RPC client as
 * an `extension_ui_request` (method "confirm") and waits for its `extension_ui_response`.
 * pi loads it under Node (`pi --extension <this file>`, see PI_PERMISSION_GATE in pi.ts), so it
 * uses nothing but plain TypeScript.
 */

const GATED_TOOLS = new Set(["bash", "edit", "write"]);

interface ToolCallEvent {
  toolName: string;
  input: unknown;
}

interface ExtensionContext {
  ui: { confirm(title: string, message: string): Promise<boolean> };
}

interface ExtensionApi {
  on(
    event: "tool_call",
    handler: (
      event: ToolCallEvent,
      ctx: ExtensionContext,
    ) => Promise<{ block: true; reason: string } | undefined>,
  ): void;
}

export default function permissionGate(pi: ExtensionApi): void {
  pi.on("tool_call", async (event, ctx) => {
    if (!GATED_TOOLS.has(event.toolName)) return undefined;
    const allowed = await ctx.ui.confirm(`Allow ${event.toolName}?`, JSON.stringify(event.input));
    return allowed ? undefined : { block: true, reason: "denied by agentd policy" };
  });
}
