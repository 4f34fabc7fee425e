import type { ProtocolDriver } from "../session.ts";
import { CodexSession } from "./session.ts";

/**
 * OpenAI's Codex CLI through its long-lived JSON-RPC interface, `codex app-server`: a handshake
 * (`initialize`, `initialized`) opens the agent's thread (`thread/start`, or `thread/resume` with
 * the thread id agentd stored), then one `turn/start` per prompt, ended by `turn/completed`.
 * Model, provider, thinking (reasoning effort) and permissions (approval policy and sandbox) are
 * thread settings, sent by the session (`settings.ts`); the provider's own configuration (base
 * URL, key) stays in `$CODEX_HOME/config.toml`. Cancel is `turn/interrupt`.
 */
export const codex: ProtocolDriver = {
  name: "codex",
  command: "codex",
  // The session keeps codex's turn ids beside agentd's: none travel with the prompts.
  capabilities: { envelopes: false, cancel: true, resume: true },
  launch: () => ({ args: ["app-server"], env: {} }),
  open: (host, agent) => new CodexSession(host, agent),
};
