import type { Json } from "../json-rpc.ts";
import type { AgentEvent } from "../session.ts";

/**
 * A turn's tokens and cost from what an ACP agent reports. Tokens come with the
 * `session/prompt` reply; cost only as the session's running total (`usage_update.cost`), which
 * an agent keeps across processes, so a turn's cost is the difference the turn made.
 */

type Usage = AgentEvent & { type: "usage" };

export class SessionCost {
  /** The session's total in USD as last reported; null while unknown. */
  private total: number | null;
  private atTurnStart: number | null = null;
  private reportedThisTurn = false;

  /**
   * A new session starts from nothing; a loaded or resumed one from a total the agent has not
   * told this process, so the first turn's cost stays unknown unless it is reported before.
   */
  constructor(known: "new" | "unknown") {
    this.total = known === "new" ? 0 : null;
  }

  /** A `usage_update`: its cost, if in USD, is the session's new total. */
  reported(update: Json): void {
    const amount = update?.cost?.amount;
    if (typeof amount !== "number" || !Number.isFinite(amount)) return;
    if (update.cost.currency !== "USD") {
      // agentd counts micro-USD; a total in another currency says nothing it can add up.
      this.total = null;
      return;
    }
    this.total = amount;
    this.reportedThisTurn = true;
  }

  turnStarted(): void {
    this.atTurnStart = this.total;
    this.reportedThisTurn = false;
  }

  /** What the turn cost in micro-USD, or null when the agent did not say. */
  turnCost(): number | null {
    if (!this.reportedThisTurn || this.total === null || this.atTurnStart === null) return null;
    return Math.max(0, Math.round((this.total - this.atTurnStart) * 1_000_000));
  }
}

/** Token counts of one `session/prompt` result, when the agent reported them. */
export function turnTokens(result: Json): { input: number; output: number } | null {
  // ACP's (unstable) `usage` on the prompt result; opencode reports it.
  const usage = result?.usage;
  if (isCount(usage?.inputTokens) && isCount(usage?.outputTokens)) {
    return { input: usage.inputTokens, output: usage.outputTokens };
  }
  // Gemini CLI workaround: it reports the turn's tokens only in its own `_meta.quota`.
  const quota = result?._meta?.quota?.token_count;
  if (isCount(quota?.input_tokens) && isCount(quota?.output_tokens)) {
    return { input: quota.input_tokens, output: quota.output_tokens };
  }
  return null;
}

/** The model a result names (Gemini CLI's `_meta.quota.model_usage`), when it names one. */
export function resultModel(result: Json): string | undefined {
  const models = result?._meta?.quota?.model_usage;
  if (!Array.isArray(models) || models.length !== 1) return undefined;
  return typeof models[0]?.model === "string" ? models[0].model : undefined;
}

/** The usage event of a turn, or null when the agent reported neither tokens nor cost. */
export function usageEvent(
  tokens: { input: number; output: number } | null,
  cost: number | null,
  model: string | undefined,
): Usage | null {
  if (tokens === null && cost === null) return null;
  return {
    type: "usage",
    input_tokens: tokens?.input ?? 0,
    output_tokens: tokens?.output ?? 0,
    cost_micro_usd: cost,
    model,
  };
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}
