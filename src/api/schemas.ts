import { type Static, Type } from "@sinclair/typebox";
import { BUDGET_ACTIONS, BUDGET_STATES } from "../agents/budget.ts";
import {
  AGENT_MODES,
  AGENT_STATUSES,
  PERMISSION_POLICIES,
  RESTART_POLICIES,
  TURN_STATUSES,
} from "../agents/status.ts";
import { literals, Nullable } from "./helpers.ts";
import { NAME_PATTERN, NAME_RULE, TURN_ID_PATTERN, TURN_ID_RULE } from "./names.ts";
import {
  AgentWorkspaceSchema,
  WorkspaceRemovalSchema,
  WorktreeRequestSchema,
} from "./workspaces.ts";

/**
 * The HTTP API's shapes, written once: the server validates and documents with them, the
 * service and the CLI take their types from them. Plain TypeBox (not Elysia's `t`), so the
 * responses are encoded without a transform pass and the CLI can import them cheaply.
 */

export const AgentStatusSchema = literals(AGENT_STATUSES);
export const AgentModeSchema = literals(AGENT_MODES);
export const TurnStatusSchema = literals(TURN_STATUSES);
export const PermissionsSchema = literals(PERMISSION_POLICIES);
export const BudgetActionSchema = literals(BUDGET_ACTIONS);

/** A budget in US dollars, as operators think of it; costs are reported in micro-USD. */
const BudgetUsd = Type.Number({ minimum: 0, maximum: 1_000_000_000 });
export const RestartPolicySchema = literals(RESTART_POLICIES);
/** The longest a turn may run, in seconds (a day at most). */
const TurnTimeout = Type.Integer({ minimum: 1, maximum: 86_400 });

export const AgentSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  title: Nullable(Type.String()),
  mode: AgentModeSchema,
  protocol: Type.String(),
  status: AgentStatusSchema,
  command: Nullable(Type.Array(Type.String())),
  provider: Type.String(),
  model: Type.String(),
  cwd: Type.String(),
  workspace: Nullable(AgentWorkspaceSchema),
  thinking: Nullable(Type.String()),
  extra_args: Type.Array(Type.String()),
  env: Type.Record(Type.String(), Type.String()),
  webhook: Nullable(Type.String()),
  turn_envelope: Type.Boolean(),
  pid: Nullable(Type.Integer()),
  prompt: Nullable(Type.String()),
  summary: Nullable(Type.String()),
  error: Nullable(Type.String()),
  exit_code: Nullable(Type.Integer()),
  cost_micro_usd: Nullable(Type.Integer()),
  cost_cents: Nullable(Type.Number()),
  budget_usd: Nullable(Type.Number({ description: "null: no budget" })),
  budget_action: BudgetActionSchema,
  budget_state: literals(BUDGET_STATES),
  input_tokens: Type.Integer(),
  output_tokens: Type.Integer(),
  turns: Type.Integer({ description: "completed turns" }),
  turn_counts: Type.Record(TurnStatusSchema, Type.Integer(), {
    description: "every turn, by status",
  }),
  restarts: Type.Integer(),
  permissions: PermissionsSchema,
  session_id: Nullable(Type.String({ description: "the agent CLI's own conversation id" })),
  /** What happens when its process ends on its own: no, on-failure, always. */
  restart: RestartPolicySchema,
  turn_timeout_s: Nullable(Type.Integer()),
  turn_idle_timeout_s: Nullable(Type.Integer()),
  created_at: Type.String(),
  started_at: Nullable(Type.String()),
  completed_at: Nullable(Type.String()),
  updated_at: Type.String(),
});
export type AgentView = Static<typeof AgentSchema>;

export const TurnSchema = Type.Object({
  id: Type.String(),
  agent_id: Type.String(),
  input: Type.String(),
  status: TurnStatusSchema,
  response: Nullable(Type.String()),
  error: Nullable(Type.String()),
  metadata: Nullable(Type.Record(Type.String(), Type.Unknown())),
  input_tokens: Type.Integer(),
  output_tokens: Type.Integer(),
  cost_micro_usd: Nullable(Type.Integer()),
  cost_cents: Nullable(Type.Number()),
  model: Nullable(Type.String({ description: "the model of its last call that reported usage" })),
  created_at: Type.String(),
  started_at: Nullable(Type.String()),
  completed_at: Nullable(Type.String()),
});
export type TurnView = Static<typeof TurnSchema>;

export const MessageSchema = Type.Object({
  role: literals(["user", "assistant"]),
  content: Type.String(),
  turn_id: Nullable(Type.String()),
  created_at: Type.String(),
});
export type MessageView = Static<typeof MessageSchema>;

export const CreateAgentBody = Type.Object(
  {
    name: Type.Optional(Type.String({ pattern: NAME_PATTERN.source, description: NAME_RULE })),
    prompt: Type.Optional(Type.String()),
    mode: Type.Optional(AgentModeSchema),
    protocol: Type.Optional(Type.String()),
    command: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    provider: Type.Optional(Type.String({ minLength: 1 })),
    model: Type.Optional(Type.String({ minLength: 1 })),
    /** A directory to work in, used as it is; without it (and worktree) a managed directory. */
    cwd: Type.Optional(Type.String({ minLength: 1 })),
    worktree: Type.Optional(WorktreeRequestSchema),
    thinking: Type.Optional(Type.String()),
    extra_args: Type.Optional(Type.Array(Type.String())),
    env: Type.Optional(Type.Record(Type.String(), Type.String())),
    webhook: Type.Optional(Type.String()),
    turn_envelope: Type.Optional(Type.Boolean()),
    permissions: Type.Optional(PermissionsSchema),
    /** US dollars the agent may spend; the daemon's --default-budget-usd when left out. */
    budget_usd: Type.Optional(Nullable(BudgetUsd)),
    budget_action: Type.Optional(BudgetActionSchema),
    /** Runs: no (default), on-failure or always; persistent agents restart on failure. */
    restart: Type.Optional(RestartPolicySchema),
    /** A turn still running after this many seconds is failed. */
    turn_timeout_s: Type.Optional(TurnTimeout),
    /** Fail a turn when its agent says nothing for this many seconds (no watchdog when absent). */
    turn_idle_timeout_s: Type.Optional(TurnTimeout),
    /** False creates the agent without starting it (pending). */
    start: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateAgentInput = Static<typeof CreateAgentBody>;

/** Config that can change after creation; null clears an optional field. */
export const PatchAgentBody = Type.Object(
  {
    provider: Type.Optional(Type.String({ minLength: 1 })),
    model: Type.Optional(Type.String({ minLength: 1 })),
    thinking: Type.Optional(Nullable(Type.String())),
    extra_args: Type.Optional(Type.Array(Type.String())),
    env: Type.Optional(Type.Record(Type.String(), Type.String())),
    webhook: Type.Optional(Nullable(Type.String())),
    permissions: Type.Optional(PermissionsSchema),
    /** A new budget (null: none); raising it above what was spent lifts an exhausted one. */
    budget_usd: Type.Optional(Nullable(BudgetUsd)),
    budget_action: Type.Optional(BudgetActionSchema),
    restart: Type.Optional(RestartPolicySchema),
    turn_timeout_s: Type.Optional(Nullable(TurnTimeout)),
    turn_idle_timeout_s: Type.Optional(Nullable(TurnTimeout)),
  },
  { additionalProperties: false },
);
export type PatchAgentInput = Static<typeof PatchAgentBody>;

export const PatchResultSchema = Type.Object({
  agent: AgentSchema,
  /** True when the agent runs with the old config until it is restarted. */
  restart_required: Type.Boolean(),
});

/** The longest a request may wait for a turn (a timer's limit, about 24.8 days). */
export const MAX_WAIT_MS = 2_147_483_647;

export const SendBody = Type.Object(
  {
    message: Type.String(),
    turn_id: Type.Optional(
      Type.String({ pattern: TURN_ID_PATTERN.source, description: TURN_ID_RULE }),
    ),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    wait: Type.Optional(Type.Boolean()),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_WAIT_MS })),
  },
  { additionalProperties: false },
);
export type SendInput = Static<typeof SendBody>;

export const SendResultSchema = Type.Union([
  Type.Object({ status: Type.Literal("sent"), turn_id: Type.String() }),
  Type.Object({
    status: Type.Literal("completed"),
    turn_id: Type.String(),
    response: Nullable(Type.String()),
  }),
  Type.Object({
    status: literals(["error", "cancelled"]),
    turn_id: Type.String(),
    error: Nullable(Type.String()),
  }),
  Type.Object({ status: Type.Literal("timeout"), turn_id: Type.String() }),
]);
export type SendResult = Static<typeof SendResultSchema>;

export const DeleteResultSchema = Type.Object({
  id: Type.String(),
  deleted: Type.Boolean(),
  workspace: Nullable(WorkspaceRemovalSchema),
});
export type DeleteResult = Static<typeof DeleteResultSchema>;

export const HealthSchema = Type.Object({
  ok: Type.Boolean(),
  version: Type.String(),
  uptime_s: Type.Integer(),
  agents: Type.Record(Type.String(), Type.Integer()),
  event_streams: Type.Integer(),
  warnings: Type.Array(Type.String()),
});

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  }),
});
export type ErrorBody = Static<typeof ErrorSchema>;
