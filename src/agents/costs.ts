import type { Database } from "bun:sqlite";
import type { Prices, UsageGroup, UsageReport } from "../api/cost.ts";
import { type UsageWindow, usageByGroup, usageTotal } from "../store/usage.ts";
import type { PriceTable } from "./prices.ts";

/** What the API can ask about cost across agents: usage totals, and the price table. */
export class Costs {
  constructor(
    private readonly db: Database,
    private readonly priceTable: PriceTable,
  ) {}

  usage(groupBy: UsageGroup, window: UsageWindow): UsageReport {
    return {
      group_by: groupBy,
      ...window,
      groups: usageByGroup(this.db, groupBy, window),
      total: usageTotal(this.db, window),
    };
  }

  prices(): Prices {
    return this.priceTable.list();
  }

  /** Replace the whole table; usage recorded from now on is priced with it. */
  setPrices(prices: Prices): Prices {
    this.priceTable.replace(prices);
    return this.priceTable.list();
  }
}
