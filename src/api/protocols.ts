import { type Static, Type } from "@sinclair/typebox";
import { Nullable } from "./helpers.ts";

/** A wire protocol agentd speaks, and what it can do (`GET /protocols`). */
export const ProtocolSchema = Type.Object({
  name: Type.String({ description: "what `protocol` names when an agent is created" }),
  command: Nullable(
    Type.String({
      description:
        "the program an agent of this protocol runs when it is created without `command`",
    }),
  ),
  default: Type.Boolean({ description: "the protocol of agents created without `protocol`" }),
  capabilities: Type.Object({
    envelopes: Type.Boolean({ description: "agentd's turn ids travel with prompts" }),
    cancel: Type.Boolean({
      description:
        "a running turn can be cancelled (POST /agents/:id/turns/:turn_id/cancel) while the agent keeps running",
    }),
    resume: Type.Boolean({ description: "a conversation continues in a new process" }),
  }),
});
export type ProtocolView = Static<typeof ProtocolSchema>;
