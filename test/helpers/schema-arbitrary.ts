import { type TSchema, Type } from "@sinclair/typebox";
import fc from "fast-check";

/**
 * fast-check arbitraries derived from a route's TypeBox schema: values the schema accepts,
 * and at every depth, with some weight, values it must refuse (the wrong type, a missing or
 * unknown field, strings with NUL, line breaks, path separators, unicode, or far too long).
 */

const ANYTHING = Type.Unknown();

export interface Hints {
  /** Plausible values for fields by name (a command that exists, a directory), so that valid requests get past the checks that are not the schema's. */
  fields?: Record<string, fc.Arbitrary<unknown>>;
  /** Strings longer than this are among the hostile ones (a prompt cap, say). */
  longString?: number;
}

/** A value for `schema`: mostly valid, sometimes hostile, at any depth. */
export function arbitraryFor(schema: TSchema, hints: Hints = {}): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: valid(schema, hints), weight: 4 },
    { arbitrary: hostileValue(hints), weight: 1 },
  );
}

/** A request body for `schema`: a value for it, or one of the ways a whole body goes wrong. */
export function bodyFor(schema: TSchema, hints: Hints = {}): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: arbitraryFor(schema, hints), weight: 6 },
    { arbitrary: withUnknownField(schema, hints), weight: 1 },
    { arbitrary: withoutRequiredField(schema, hints), weight: 1 },
  );
}

function valid(schema: TSchema, hints: Hints): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.anyOf)) {
    return fc.oneof(...schema.anyOf.map((option: TSchema) => valid(option, hints)));
  }
  switch (schema.type) {
    case "string":
      return validString(schema);
    case "integer":
      return fc.integer({
        min: schema.minimum ?? -1_000_000,
        max: Math.min(schema.maximum ?? 1_000_000, 1_000_000),
      });
    case "number":
      return fc.double({
        min: schema.minimum ?? -1e6,
        max: Math.min(schema.maximum ?? 1e6, 1e6),
        noNaN: true,
      });
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array":
      return fc.array(arbitraryFor(schema.items ?? ANYTHING, hints), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, 4),
      });
    case "object":
      return schema.patternProperties ? validRecord(schema, hints) : validObject(schema, hints);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function validString(schema: TSchema): fc.Arbitrary<string> {
  if (schema.format === "numeric") return fc.nat({ max: 100_000 }).map(String);
  if (typeof schema.pattern === "string") return fc.stringMatching(new RegExp(schema.pattern));
  return fc.string({ minLength: schema.minLength ?? 0, maxLength: 40 });
}

function validObject(schema: TSchema, hints: Hints): fc.Arbitrary<unknown> {
  const properties: Record<string, TSchema> = schema.properties ?? {};
  const required = new Set<string>(schema.required ?? []);
  const fields = Object.fromEntries(
    Object.entries(properties).map(([name, property]) => {
      const hinted = hints.fields?.[name];
      const own = arbitraryFor(property, hints);
      return [name, hinted ? fc.oneof({ arbitrary: hinted, weight: 3 }, own) : own];
    }),
  );
  return fc.record(fields, { requiredKeys: [...required] });
}

function validRecord(schema: TSchema, hints: Hints): fc.Arbitrary<unknown> {
  const values = Object.values(schema.patternProperties as Record<string, TSchema>);
  return fc.dictionary(
    fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/), hostileString(hints)),
    arbitraryFor(values[0] ?? ANYTHING, hints),
    { maxKeys: 3 },
  );
}

function withUnknownField(schema: TSchema, hints: Hints): fc.Arbitrary<unknown> {
  if (schema.type !== "object" || schema.patternProperties) return valid(schema, hints);
  return fc
    .tuple(valid(schema, hints), fc.string({ minLength: 1, maxLength: 12 }), hostileValue(hints))
    .map(([value, key, extra]) => ({ ...(value as object), [key]: extra }));
}

function withoutRequiredField(schema: TSchema, hints: Hints): fc.Arbitrary<unknown> {
  const required: string[] = schema.required ?? [];
  if (schema.type !== "object" || required.length === 0) return valid(schema, hints);
  return fc.tuple(valid(schema, hints), fc.constantFrom(...required)).map(([value, key]) => {
    const { [key]: _dropped, ...rest } = value as Record<string, unknown>;
    return rest;
  });
}

/** Anything at all: another JSON type, or a string meant to hurt. */
export function hostileValue(hints: Hints): fc.Arbitrary<unknown> {
  return fc.oneof(fc.jsonValue({ maxDepth: 2 }), hostileString(hints));
}

/** Strings that have broken programs: NUL, line breaks, separators, unicode, length. */
export function hostileString(hints: Hints): fc.Arbitrary<string> {
  const long = (hints.longString ?? 1000) + 1;
  return fc.oneof(
    fc.constantFrom(
      "",
      " ",
      "a\u0000b",
      "line\nbreak",
      "carriage\rreturn",
      "../../etc/passwd",
      "a/b",
      "..",
      "名前",
      "e\u0301",
      "\u202e",
      "x".repeat(65),
      "$(touch /tmp/agentd-pwned)",
      "%00",
      "http://user:pw@example.com/",
      "ftp://example.com/",
      "NaN",
      "-1",
      "1e400",
    ),
    fc.string({ unit: "binary", maxLength: 30 }),
    fc.nat({ max: 3 }).map((extra) => "é".repeat(long + extra)),
  );
}
