import type { PermissionPolicy } from "../../agents/status.ts";
import type { Json } from "../json-rpc.ts";
import type { AgentEvent } from "../session.ts";

/**
 * `session/request_permission` answered by the agent's policy, with nobody to ask:
 * `allow-all` allows, `read-only` allows tools whose ACP kind only reads, `ask-denied` refuses
 * every request (what the agent asks about is what would need a person's yes). A request
 * during a cancelled turn is answered `cancelled`, as the spec requires.
 */

/** ACP tool kinds that leave everything as it was (`fetch` reaches the network: not here). */
export const READ_ONLY_KINDS: ReadonlySet<string> = new Set(["read", "search", "think"]);

/** What the agent asks about, reduced to what the policy looks at. */
export interface PermissionRequest {
  /** The tool's ACP kind, from the request or the tool call it named earlier. */
  kind: string;
  toolCall: Json;
  options: Json[];
}

export interface PermissionAnswer {
  /** The `RequestPermissionResponse` to send. */
  result: { outcome: { outcome: "selected"; optionId: string } | { outcome: "cancelled" } };
  event: AgentEvent & { type: "permission" };
}

/** The policy's answer to a request; `cancelled` when its turn is being cancelled. */
export function answerPermission(
  policy: PermissionPolicy,
  request: PermissionRequest,
  turnCancelled: boolean,
): PermissionAnswer {
  if (turnCancelled) return answer(request, "denied", "the turn was cancelled", null);
  const verdict = judge(policy, request.kind);
  if (!verdict.allowed) {
    // Without a reject option, `cancelled` is the only refusal left.
    return answer(request, "denied", verdict.reason, optionOf(request, REJECT_KINDS));
  }
  const allow = optionOf(request, ALLOW_KINDS);
  if (allow === null) {
    const reason = `${verdict.reason}, but the agent offered no option to allow it`;
    return answer(request, "denied", reason, optionOf(request, REJECT_KINDS));
  }
  return answer(request, "allowed", verdict.reason, allow);
}

function judge(policy: PermissionPolicy, kind: string): { allowed: boolean; reason: string } {
  switch (policy) {
    case "allow-all":
      return { allowed: true, reason: "allow-all allows every tool" };
    case "read-only":
      return READ_ONLY_KINDS.has(kind)
        ? { allowed: true, reason: `read-only allows ${kind} tools` }
        : {
            allowed: false,
            reason: `read-only allows only tools that read (${[...READ_ONLY_KINDS].join(", ")}), not ${kind}`,
          };
    case "ask-denied":
      return { allowed: false, reason: "not covered by ask-denied: there is nobody to ask" };
  }
}

/** Once before always: a remembered answer would outlive a change of policy. */
const ALLOW_KINDS = ["allow_once", "allow_always"];
const REJECT_KINDS = ["reject_once", "reject_always"];

/** The first option of the first kind offered (options are chosen by kind, never by id). */
function optionOf(request: PermissionRequest, kinds: string[]): string | null {
  for (const kind of kinds) {
    const option = request.options.find((candidate) => candidate?.kind === kind);
    if (typeof option?.optionId === "string") return option.optionId;
  }
  return null;
}

/** The answer with the chosen option; `cancelled` when there is none. */
function answer(
  request: PermissionRequest,
  decision: "allowed" | "denied",
  reason: string,
  optionId: string | null,
): PermissionAnswer {
  const { toolCall } = request;
  return {
    result: {
      outcome: optionId === null ? { outcome: "cancelled" } : { outcome: "selected", optionId },
    },
    event: {
      type: "permission",
      tool: request.kind,
      decision,
      reason,
      detail: {
        tool_call_id: toolCall?.toolCallId,
        title: toolCall?.title,
        input: toolCall?.rawInput,
        option: optionId,
      },
    },
  };
}
