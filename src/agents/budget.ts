/**
 * Budgets, as numbers: what an agent may spend, what happens when it has, and how far along it
 * is. Pure, so the API's schemas and the CLI can use it; enforcement is in budget-guard.ts.
 */

/** At the budget: `finish` lets the running turn end; `cancel` interrupts it where it can. */
export const BUDGET_ACTIONS = ["finish", "cancel"] as const;
export type BudgetAction = (typeof BUDGET_ACTIONS)[number];

/** `warning` from WARNING_SHARE of the budget on; `exhausted` once it is reached. */
export const BUDGET_STATES = ["ok", "warning", "exhausted"] as const;
export type BudgetState = (typeof BUDGET_STATES)[number];

export const WARNING_SHARE = 0.8;

const MICRO_PER_USD = 1_000_000;

/** Where spending stands against a budget; no budget (null) is always ok. */
export function budgetStateOf(spentMicroUsd: number | null, budgetMicroUsd: number | null) {
  if (budgetMicroUsd === null) return "ok";
  const spent = spentMicroUsd ?? 0;
  if (spent >= budgetMicroUsd) return "exhausted";
  if (spent >= budgetMicroUsd * WARNING_SHARE) return "warning";
  return "ok";
}

/** How much more serious a state is than another: only a rise is announced. */
export function budgetRank(state: BudgetState): number {
  return BUDGET_STATES.indexOf(state);
}

export function usdToMicro(usd: number): number {
  return Math.round(usd * MICRO_PER_USD);
}

export function microToUsd(microUsd: number): number {
  return microUsd / MICRO_PER_USD;
}

/** `$1.2345`: US dollars to a hundredth of a cent. */
export function formatUsd(microUsd: number): string {
  return `$${(microUsd / MICRO_PER_USD).toFixed(4)}`;
}
