import type { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { Value } from "@sinclair/typebox/value";
import { type Prices, PricesSchema } from "../api/cost.ts";
import { BadRequestError, errorMessage } from "../errors.ts";
import { loadPrices, replacePrices } from "../store/prices.ts";

/**
 * The operator's price per model, for agents whose CLI reports tokens but no cost. Kept in
 * memory (the recorder asks it for every usage of unknown cost) and in the database (it
 * survives restarts); replaced whole, by `PUT /prices` or a `--prices` file at start.
 */
export class PriceTable {
  private prices: Prices;

  constructor(private readonly db: Database) {
    this.prices = loadPrices(db);
  }

  list(): Prices {
    return this.prices;
  }

  replace(prices: Prices): void {
    const checked = checkPrices(prices, "the price table");
    replacePrices(this.db, checked);
    this.prices = checked;
  }

  /**
   * What a model call cost in micro-USD, from the model's price; null (unknown) for a model
   * with no price. A price per million tokens in USD is a price per token in micro-USD.
   */
  costOf(model: string, inputTokens: number, outputTokens: number): number | null {
    const price = this.prices[model];
    if (price === undefined) return null;
    return Math.round(
      inputTokens * price.input_usd_per_mtok + outputTokens * price.output_usd_per_mtok,
    );
  }
}

/**
 * A `--prices` file: a JSON object from model name to
 * `{"input_usd_per_mtok": N, "output_usd_per_mtok": N}`.
 */
export function readPriceFile(path: string): Prices {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new BadRequestError(`cannot read the price file ${path}: ${errorMessage(error)}`);
  }
  return checkPrices(value, `the price file ${path}`);
}

function checkPrices(value: unknown, what: string): Prices {
  if (Value.Check(PricesSchema, value)) return value;
  const first = Value.Errors(PricesSchema, value).First();
  const where = first?.path ? ` at ${first.path}` : "";
  throw new BadRequestError(
    `${what} is not a price table${where}: ${first?.message ?? "invalid"}; expected {"MODEL": {"input_usd_per_mtok": N, "output_usd_per_mtok": N}, …}`,
  );
}
