import type { BenchSession } from "./session.ts";
import { type Summary, summarize } from "./stats.ts";

export interface BenchContext {
  session: BenchSession;
  /** The command that runs the agentd under test: its binary, or bun on the source (--profile). */
  agentd: string[];
  /** One repetition at small sizes, to show the bench still works. */
  smoke: boolean;
}

/** What a scenario measures, and which way is better. */
export interface Metric {
  unit: string;
  better: "higher" | "lower";
}

/**
 * The goal from the issue: agentd's median divided by the baseline's (`ratio`), or the
 * baseline's subtracted from it (`difference`), at least (`min`) or at most (`max`) `value`.
 */
export interface Target {
  compare: "ratio" | "difference";
  bound: "min" | "max";
  value: number;
}

/** A fact checked beside the timing (everything stored, retention held); a failed one misses the target. */
export interface Check {
  what: string;
  ok: boolean;
}

/** One scenario ready to run: each side measures once per call and returns the metric. */
export interface Sides {
  agentd(): Promise<number>;
  baseline(): Promise<number>;
  /**
   * An untimed run of agentd's side that also checks facts to report beside the numbers; it
   * stands in for agentd's warm-up.
   */
  check?(): Promise<Check[]>;
  /** Facts about the setup worth printing (sizes, bytes). */
  notes?(): string[];
  close(): Promise<void>;
}

export interface Scenario {
  id: string;
  /** What agentd is asked to do. */
  title: string;
  /** What the baseline does instead. */
  baseline: string;
  metric: Metric;
  target: Target;
  /** Interleaved repetitions after the warm-up; 5 unless the scenario is too heavy for that. */
  repetitions?: number;
  prepare(context: BenchContext): Promise<Sides>;
}

/** Thrown by prepare() when this machine cannot run the scenario; the reason is reported. */
export class Skip extends Error {}

export type ScenarioResult = {
  id: string;
  title: string;
  baseline: string;
  metric: Metric;
  target: Target;
  notes: string[];
} & (
  | {
      status: "measured";
      agentd: Summary;
      baselineSummary: Summary;
      comparison: number;
      checks: Check[];
      met: boolean;
    }
  | { status: "skipped" | "failed"; reason: string }
);

export const DEFAULT_REPETITIONS = 5;

/**
 * Run one scenario: a warm-up of each side (agentd's with its checks), then repetitions
 * alternating agentd and baseline, so that whatever else the machine does falls on both alike.
 */
export async function measure(scenario: Scenario, context: BenchContext): Promise<ScenarioResult> {
  const head = {
    id: scenario.id,
    title: scenario.title,
    baseline: scenario.baseline,
    metric: scenario.metric,
    target: scenario.target,
  };
  let sides: Sides;
  try {
    sides = await scenario.prepare(context);
  } catch (error) {
    if (error instanceof Skip)
      return { ...head, notes: [], status: "skipped", reason: error.message };
    return { ...head, notes: [], status: "failed", reason: messageOf(error) };
  }
  try {
    const checks = sides.check ? await sides.check() : [];
    // The smoke run only shows that every step still works: no warm-up, one repetition.
    if (!context.smoke) {
      if (!sides.check) await sides.agentd();
      await sides.baseline();
    }
    const repetitions = context.smoke ? 1 : (scenario.repetitions ?? DEFAULT_REPETITIONS);
    const agentdSamples: number[] = [];
    const baselineSamples: number[] = [];
    for (let i = 0; i < repetitions; i++) {
      agentdSamples.push(await sides.agentd());
      baselineSamples.push(await sides.baseline());
    }
    const agentd = summarize(agentdSamples);
    const baselineSummary = summarize(baselineSamples);
    const comparison = compare(scenario.target, agentd.median, baselineSummary.median);
    return {
      ...head,
      notes: sides.notes?.() ?? [],
      status: "measured",
      agentd,
      baselineSummary,
      comparison,
      checks,
      met: meets(scenario.target, comparison) && checks.every((check) => check.ok),
    };
  } catch (error) {
    return { ...head, notes: sides.notes?.() ?? [], status: "failed", reason: messageOf(error) };
  } finally {
    await sides.close().catch((error) => {
      console.error(`bench: ${scenario.id}: cleaning up failed: ${messageOf(error)}`);
    });
  }
}

export function compare(target: Target, agentd: number, baseline: number): number {
  return target.compare === "ratio" ? agentd / baseline : agentd - baseline;
}

export function meets(target: Target, comparison: number): boolean {
  return target.bound === "min" ? comparison >= target.value : comparison <= target.value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
