import { type Static, Type } from "@sinclair/typebox";
import { USAGE_GROUPS } from "../agents/cost.ts";
import { literals, Nullable } from "./helpers.ts";

/** Shapes of the cost routes: usage totals and the price table. */

export const ModelPriceSchema = Type.Object(
  {
    input_usd_per_mtok: Type.Number({
      minimum: 0,
      description: "US dollars per million input tokens",
    }),
    output_usd_per_mtok: Type.Number({
      minimum: 0,
      description: "US dollars per million output tokens",
    }),
  },
  { additionalProperties: false },
);

/** Model name (exactly as the agent reports it) -> its price. */
export const PricesSchema = Type.Record(Type.String({ minLength: 1 }), ModelPriceSchema, {
  description: "The price of each model, by the model's name as agents report it",
});
export type Prices = Static<typeof PricesSchema>;

/** What `GET /usage` can total by; a day is a UTC day. */
export const UsageGroupSchema = literals(USAGE_GROUPS);

const UsageTotalsFields = {
  calls: Type.Integer({ description: "model calls that reported usage" }),
  turns: Type.Integer({ description: "distinct turns those calls belong to" }),
  input_tokens: Type.Integer(),
  output_tokens: Type.Integer(),
  cost_micro_usd: Nullable(
    Type.Integer({ description: "the sum of the known costs; null when none is known" }),
  ),
  unknown_cost_calls: Type.Integer({ description: "calls whose cost is unknown (not zero)" }),
  unknown_cost_turns: Type.Integer({
    description: "turns with a call of unknown cost: they cost more than is counted",
  }),
};

export const UsageReportSchema = Type.Object({
  group_by: UsageGroupSchema,
  since: Nullable(Type.String({ description: "ISO time, inclusive" })),
  until: Nullable(Type.String({ description: "ISO time, exclusive" })),
  groups: Type.Array(
    Type.Object({
      key: Type.String({ description: "the agent id, model, protocol or UTC day (YYYY-MM-DD)" }),
      ...UsageTotalsFields,
    }),
  ),
  total: Type.Object(UsageTotalsFields),
});
export type UsageReport = Static<typeof UsageReportSchema>;
