import type { Database } from "bun:sqlite";
import { run } from "./sql.ts";

/** What one model costs, in US dollars per million tokens (the way providers list prices). */
export interface ModelPrice {
  input_usd_per_mtok: number;
  output_usd_per_mtok: number;
}

export type PriceList = Record<string, ModelPrice>;

export function loadPrices(db: Database): PriceList {
  const rows = db
    .query<ModelPrice & { model: string }, []>("SELECT * FROM prices ORDER BY model")
    .all();
  return Object.fromEntries(rows.map(({ model, ...price }) => [model, price]));
}

/** The whole table at once: models not in `prices` lose their price. */
export function replacePrices(db: Database, prices: PriceList): void {
  db.transaction(() => {
    run(db, "DELETE FROM prices");
    for (const [model, price] of Object.entries(prices)) {
      run(
        db,
        "INSERT INTO prices (model, input_usd_per_mtok, output_usd_per_mtok) VALUES ($model, $input, $output)",
        { model, input: price.input_usd_per_mtok, output: price.output_usd_per_mtok },
      );
    }
  })();
}
