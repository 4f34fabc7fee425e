/**
 * agentd's goodbye for pi, a pi extension. pi's RPC mode ends when its input does, but a
 * persistent agent's input is a FIFO that never ends, and the SIGTERM systemd sends instead
 * makes pi exit 143, which systemd counts as a failure. So agentd's session says goodbye with
 * the prompt `/agentd-goodbye`: this command shuts pi down the graceful way, with exit code 0.
 *
 * pi loads this file with jiti under Node: it imports nothing, and its types are its own. agentd
 * embeds it as text (src/protocols/pi.ts); nothing in agentd imports it as code.
 */

interface CommandContext {
  shutdown(): void;
}

interface ExtensionApi {
  registerCommand(
    name: string,
    options: { description: string; handler: (args: string, ctx: CommandContext) => Promise<void> },
  ): void;
}

export default function agentdGoodbye(pi: ExtensionApi): void {
  pi.registerCommand("agentd-goodbye", {
    description: "agentd's goodbye: pi shuts down (exit code 0)",
    handler: async (_args, ctx) => ctx.shutdown(),
  });
}
