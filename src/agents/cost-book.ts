import type { Database } from "bun:sqlite";
import type { Prices, UsageReport } from "../api/cost.ts";
import { type UsageWindow, usageByGroup, usageTotal } from "../store/usage.ts";
import type { UsageGroup } from "./cost.ts";
import type { PriceTable } from "./prices.ts";

/** The books of what agents cost, for the API: usage totals, and the price table. */
export class CostBook {
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
