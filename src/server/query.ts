import { t } from "elysia";

/** A yes/no query parameter: `1`/`true` or `0`/`false`, as operators type them in curl. */
export const QueryFlag = t.Union([
  t.Literal("1"),
  t.Literal("true"),
  t.Literal("0"),
  t.Literal("false"),
]);

export function isOn(flag: string | undefined): boolean {
  return flag === "1" || flag === "true";
}
