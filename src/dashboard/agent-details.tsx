import type { ProtocolView } from "../api/protocols.ts";
import type { AgentView } from "../api/schemas.ts";
import { Fields } from "./components.tsx";
import { formatBytes, formatCost, formatCount, formatTime } from "./format.ts";
import { useNow } from "./hooks.ts";

/** Where the agent works, what it has cost, and how it is set up. */
export function AgentDetails({
  agent,
  protocol,
}: {
  agent: AgentView;
  protocol: ProtocolView | null;
}) {
  const now = useNow(60_000);
  const time = (iso: string | null) =>
    iso === null ? null : <time dateTime={iso}>{formatTime(iso, now)}</time>;
  const workspace = agent.workspace;
  const envNames = Object.keys(agent.env);
  return (
    <aside class="agent-aside">
      <section class="panel" aria-labelledby="state-title">
        <h2 id="state-title">State</h2>
        <Fields
          rows={[
            ["status", agent.status],
            ["error", agent.error],
            ["exit code", agent.exit_code],
            ["pid", agent.pid],
            ["restarts", agent.restarts],
            ["created", time(agent.created_at)],
            ["started", time(agent.started_at)],
            ["completed", time(agent.completed_at)],
            ["updated", time(agent.updated_at)],
          ]}
        />
      </section>
      <section class="panel" aria-labelledby="cost-title">
        <h2 id="cost-title">Cost</h2>
        <Fields
          rows={[
            ["cost", formatCost(agent.cost_micro_usd)],
            [
              "tokens",
              `${formatCount(agent.input_tokens)} in, ${formatCount(agent.output_tokens)} out`,
            ],
            ["turns completed", agent.turns],
            [
              "budget",
              agent.budget_usd === null
                ? "none"
                : `$${agent.budget_usd} (${agent.budget_state}; at the limit: ${agent.budget_action})`,
            ],
          ]}
        />
      </section>
      <section class="panel" aria-labelledby="workspace-title">
        <h2 id="workspace-title">Workspace</h2>
        {workspace ? (
          <Fields
            rows={[
              ["kind", workspace.kind],
              ["path", <code key="path">{workspace.path}</code>],
              ["status", workspace.status],
              ...(workspace.kind === "worktree"
                ? ([
                    ["branch", workspace.branch],
                    ["base", workspace.base],
                    ["repository", workspace.repo],
                  ] as [string, string | null][])
                : []),
              [
                "size",
                workspace.size_bytes === null
                  ? "not measured yet"
                  : formatBytes(workspace.size_bytes),
              ],
              ["last used", time(workspace.accessed_at)],
            ]}
          />
        ) : (
          <Fields rows={[["cwd", <code key="cwd">{agent.cwd}</code>]]} />
        )}
      </section>
      <section class="panel" aria-labelledby="config-title">
        <h2 id="config-title">Config</h2>
        <Fields
          rows={[
            ["mode", agent.mode],
            [
              "protocol",
              `${agent.protocol}${protocol ? ` (${protocol.capabilities.cancel ? "can" : "cannot"} cancel turns)` : ""}`,
            ],
            ["command", agent.command && <code key="command">{agent.command.join(" ")}</code>],
            ["provider", agent.provider],
            ["model", agent.model],
            ["thinking", agent.thinking],
            ["permissions", agent.permissions],
            [
              "extra args",
              agent.extra_args.length > 0 && <code key="args">{agent.extra_args.join(" ")}</code>,
            ],
            [
              "env",
              envNames.length > 0 && (
                <details key="env">
                  <summary>{envNames.join(", ")}</summary>
                  <pre>{envNames.map((name) => `${name}=${agent.env[name]}`).join("\n")}</pre>
                </details>
              ),
            ],
            ["webhook", agent.webhook],
            ["prompts", agent.turn_envelope ? "in envelopes (with turn ids)" : "raw"],
            ["session", agent.session_id],
            ["first prompt", agent.prompt],
          ]}
        />
      </section>
    </aside>
  );
}
