/**
 * An agent's settings in codex's terms: the thread's model, provider, reasoning effort, approval
 * policy and sandbox, and how codex's approval requests are answered. They travel with
 * `thread/start` and again with `thread/resume`, because a resumed thread otherwise keeps the
 * settings it was started with, whatever the process's own configuration says.
 */

import { DEFAULT_MODEL, DEFAULT_PROVIDER } from "../../agents/new-agent.ts";
import type { PermissionPolicy } from "../../agents/status.ts";
import type { SessionAgent } from "../session.ts";

interface CodexPolicy {
  approvalPolicy: "never" | "on-request";
  sandbox: "danger-full-access" | "workspace-write" | "read-only";
  /** The answer to whatever codex still asks. */
  decision: "accept" | "decline";
  reason: string;
}

/**
 * agentd's policies as codex's own presets: full access; "auto" (work inside the workspace
 * without asking, ask to go beyond it — and the answer is no); read-only (commands run in a
 * read-only sandbox, every edit asks — and the answer is no).
 */
const POLICIES: Record<PermissionPolicy, CodexPolicy> = {
  "allow-all": {
    approvalPolicy: "never",
    sandbox: "danger-full-access",
    decision: "accept",
    reason: "allow-all: every tool use is allowed",
  },
  "ask-denied": {
    approvalPolicy: "on-request",
    sandbox: "workspace-write",
    decision: "decline",
    reason:
      "ask-denied: codex asked to go beyond its workspace sandbox; no one is there to say yes",
  },
  "read-only": {
    approvalPolicy: "on-request",
    sandbox: "read-only",
    decision: "decline",
    reason: "read-only: nothing but reading is allowed",
  },
};

/** The params of `thread/start` and `thread/resume` that carry the agent's settings. */
export function threadSettings(agent: SessionAgent): Record<string, unknown> {
  const { approvalPolicy, sandbox } = POLICIES[agent.permissions];
  const settings: Record<string, unknown> = { cwd: agent.cwd, approvalPolicy, sandbox };
  // agentd's defaults leave the choice to codex's own configuration ($CODEX_HOME/config.toml).
  if (agent.model !== DEFAULT_MODEL) settings.model = agent.model;
  if (agent.provider && agent.provider !== DEFAULT_PROVIDER)
    settings.modelProvider = agent.provider;
  if (agent.thinking) settings.config = { model_reasoning_effort: agent.thinking };
  return settings;
}

/** How an approval request is answered under a policy, and why. */
export function approvalAnswer(policy: PermissionPolicy): Pick<CodexPolicy, "decision" | "reason"> {
  const { decision, reason } = POLICIES[policy];
  return { decision, reason };
}
