import { type Static, Type } from "@sinclair/typebox";
import { BUDGET_ACTIONS, BUDGET_STATES } from "../agents/budget.ts";
import { literals, Nullable } from "./helpers.ts";
import { AgentStatusSchema } from "./schemas.ts";

/**
 * What agentd records about agents and streams over SSE: one schema per event type. The
 * stored `data` of an event of type T has the shape EVENT_DATA[T].
 */

const TurnRef = Nullable(Type.String({ description: "the turn it belongs to, when known" }));

export const EVENT_DATA = {
  status: Type.Object(
    {
      status: AgentStatusSchema,
      previous: Nullable(AgentStatusSchema),
      error: Type.Optional(Type.String()),
    },
    { description: "The agent's status changed (its creation is the first one)." },
  ),
  "turn.queued": Type.Object(
    { turn_id: Type.String() },
    { description: "A prompt was accepted for the agent: a new turn." },
  ),
  "turn.started": Type.Object({ turn_id: TurnRef }, { description: "The agent began a turn." }),
  "turn.completed": Type.Object(
    { turn_id: TurnRef, response: Nullable(Type.String()) },
    { description: "The agent answered." },
  ),
  "turn.failed": Type.Object(
    { turn_id: TurnRef, error: Type.String() },
    { description: "The turn ended with an error (also when the agent's process ended first)." },
  ),
  "turn.cancelled": Type.Object(
    { turn_id: TurnRef, reason: Type.String() },
    { description: "The turn was cancelled: on request, or because the agent was stopped." },
  ),
  usage: Type.Object(
    {
      turn_id: TurnRef,
      input_tokens: Type.Integer(),
      output_tokens: Type.Integer(),
      cost_micro_usd: Nullable(Type.Integer({ description: "null: unknown, not zero" })),
      model: Type.Optional(Type.String()),
    },
    { description: "Tokens and cost of one model call, added to the turn and the agent." },
  ),
  budget: Type.Object(
    {
      state: literals(BUDGET_STATES),
      previous: literals(BUDGET_STATES),
      spent_micro_usd: Type.Integer(),
      budget_micro_usd: Nullable(Type.Integer({ description: "null: no budget" })),
      action: literals(BUDGET_ACTIONS),
    },
    {
      description:
        "The agent's spending reached 80 % of its budget (warning) or all of it (exhausted: prompts are refused, and the running turn finishes or, with action cancel, is cancelled), or a changed budget moved it back.",
    },
  ),
  inference: Type.Object(
    {
      phase: literals(["start", "end"]),
      model: Type.Optional(Type.String()),
      duration_ms: Type.Optional(Type.Number()),
    },
    { description: "A model call began or ended." },
  ),
  tool: Type.Object(
    {
      phase: literals(["call", "result"]),
      name: Type.String(),
      detail: Type.Optional(Type.Unknown()),
    },
    { description: "The agent called a tool, or got its result." },
  ),
  log: Type.Object(
    {
      level: literals(["info", "warn", "error"]),
      message: Type.String(),
    },
    { description: "Something worth knowing: stderr lines, skipped output, protocol trouble." },
  ),
  permission: Type.Object(
    {
      tool: Type.String(),
      decision: literals(["allowed", "denied"]),
      reason: Type.String({ description: "the policy's reason, e.g. not covered by ask-denied" }),
      detail: Type.Optional(Type.Unknown()),
    },
    { description: "The agent asked to use a tool; its permission policy answered." },
  ),
  session: Type.Object(
    { session_id: Type.String() },
    { description: "The agent CLI's own conversation id, kept to resume it after a restart." },
  ),
  exit: Type.Object(
    {
      code: Nullable(Type.Integer()),
      signal: Nullable(Type.String()),
      stopped: Type.Boolean({ description: "true when agentd (or an operator) stopped it" }),
    },
    { description: "The agent's process ended." },
  ),
  restart: Type.Object(
    {
      restarts: Type.Integer({
        description: "automatic restarts since it was last started by hand",
      }),
      delay_ms: Type.Optional(
        Type.Integer({ description: "how long agentd waits before starting it (runs)" }),
      ),
    },
    { description: "The agent's process is started again automatically." },
  ),
  removed: Type.Object(
    {},
    {
      description:
        "The agent was removed, with its turns, messages and events: this one too, so only streams open at the time see it (a client that reconnects finds the agent gone).",
    },
  ),
} as const;

export type EventType = keyof typeof EVENT_DATA;
export type EventData<T extends EventType> = Static<(typeof EVENT_DATA)[T]>;
export const EVENT_TYPES = Object.keys(EVENT_DATA) as EventType[];

/** One stored event of each type, as `GET /events` streams it in each SSE `data:`. */
export const StoredEventSchema = Type.Union(
  EVENT_TYPES.map((type) =>
    Type.Object(
      {
        seq: Type.Integer({ description: "the SSE `id:`; strictly increasing" }),
        agent_id: Type.String(),
        type: Type.Literal(type),
        data: EVENT_DATA[type],
        created_at: Type.String(),
      },
      { title: type },
    ),
  ),
);

export type StoredEvent = {
  [T in EventType]: {
    seq: number;
    agent_id: string;
    type: T;
    data: EventData<T>;
    created_at: string;
  };
}[EventType];
