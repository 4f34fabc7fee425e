/**
 * The normalized events every protocol driver produces. Everything downstream of a driver
 * (store, webhooks, SSE, status) sees only these.
 */
export type AgentEvent =
  | { type: "turn.started"; turn_id?: string | undefined }
  | {
      type: "turn.completed";
      turn_id?: string | undefined;
      response: string | null;
      metadata?: Record<string, unknown> | undefined;
    }
  | { type: "turn.failed"; turn_id?: string | undefined; error: string }
  | {
      type: "usage";
      input_tokens: number;
      output_tokens: number;
      /** Absent cost is unknown cost, not zero. */
      cost_micro_usd: number | null;
      model?: string | undefined;
    }
  | {
      type: "inference";
      phase: "start" | "end";
      model?: string | undefined;
      duration_ms?: number | undefined;
    }
  | { type: "tool"; phase: "call" | "result"; name: string; detail?: unknown }
  | { type: "log"; level: "info" | "warn" | "error"; message: string };

/** A prompt on its way to an agent. */
export interface Prompt {
  turn_id: string;
  input: string;
  metadata: Record<string, unknown> | null;
}

export interface ProtocolDriver {
  readonly name: string;
  /** Events in one line of agent stdout; [] for lines it does not understand. */
  parseLine(line: string): AgentEvent[];
  /** The bytes that deliver a prompt: a v1 envelope, or the raw input when envelopes are off. */
  encodePrompt(prompt: Prompt, envelope: boolean): Uint8Array;
}
