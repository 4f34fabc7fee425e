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

/**
 * A whole number in a query string, from `minimum` to `maximum`. The range is checked after the
 * text is decoded, where the parameter's name is no longer known: the error carries it.
 */
export function QueryInteger(name: string, minimum: number, maximum = Number.MAX_SAFE_INTEGER) {
  return t.Numeric({
    minimum,
    maximum,
    multipleOf: 1,
    error: `query.${name} must be a whole number ${maximum === Number.MAX_SAFE_INTEGER ? `of at least ${minimum}` : `from ${minimum} to ${maximum}`}`,
  });
}
